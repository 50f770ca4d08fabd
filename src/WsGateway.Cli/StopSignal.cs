using System.Runtime.InteropServices;

namespace WsGateway.Cli;

/// <summary>Ctrl+C (SIGINT) and SIGTERM (systemd, docker stop, kill) as one cancellation token, linked to the command's
/// own: the signal does not end the process, the command stops what it does and ends in its own way (serve closes
/// its connections with 1001, send prints its summary).</summary>
internal sealed class StopSignal : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly PosixSignalRegistration _sigint;
    private readonly PosixSignalRegistration _sigterm;

    public StopSignal(CancellationToken invocationToken)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(invocationToken);
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>Cancelled by the first signal or by the command's own token.</summary>
    public CancellationToken Token => _stop.Token;

    public void Dispose()
    {
        _sigint.Dispose();
        _sigterm.Dispose();
        _stop.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        _stop.Cancel();
    }
}
