using System.Buffers;
using System.IO.Pipelines;

namespace WsGateway.Connections;

/// <summary>
/// The receive driver of a session over a pipe (Kestrel's connection, an upgraded ASP.NET Core request stream, an
/// in-memory pair): reads, hands each read to <see cref="WebSocketConnection.OnRead"/>, advances, flushes the
/// replies, and waits while the session is paused or throttled. The native event loop drives sessions without it.
/// </summary>
internal static class PipeReceiveLoop
{
    /// <summary>Runs until the session stops reading; <c>OnDisconnect</c> has been called when it returns.</summary>
    public static async Task RunAsync(ITransportSession session, PipeReader input)
    {
        try
        {
            while (true)
            {
                if (session.PausedUntil is { } paused)
                {
                    await paused.ConfigureAwait(false);
                    session.OnReadingResumed();
                }

                session.OnReadStarting();
                ReadResult result = await input.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                    session.OnReadCanceled();
                    return;
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                ReadStep step = session.OnRead(ref buffer, result.IsCompleted);
                if (step == ReadStep.Throttle)
                {
                    input.AdvanceTo(buffer.Start);
                    await session.FlushAsync().ConfigureAwait(false);
                    await session.WaitForTokenAsync().ConfigureAwait(false);
                    continue;
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                await session.FlushAsync().ConfigureAwait(false);
                if (step == ReadStep.End)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (TransportErrors.IsEnded(ex))
        {
            session.OnTransportFailed(ex);
        }
        finally
        {
            session.EndReceiving();
        }
    }
}
