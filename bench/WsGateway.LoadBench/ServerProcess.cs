using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace WsGateway.LoadBench;

/// <summary>A <c>WsGateway.LoadBench server</c> child process: started with the same executable as this one, driven over
/// its standard input and output; under <c>taskset -c LIST</c> when the benchmark pins its servers
/// (<c>--server-cpus</c>), so that every thread of the server, the runtime's included, starts pinned.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan s_commandTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly SemaphoreSlim _gate = new(1, 1);

    private ServerProcess(Process process, string kind, string mode)
    {
        _process = process;
        Kind = kind;
        Mode = mode;
    }

    public string Kind { get; }

    public string Mode { get; }

    public IPEndPoint EndPoint { get; private set; } = new(IPAddress.Loopback, 0);

    /// <summary>The operating system's id of the server process.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Starts a server; <paramref name="cpus"/> (a <c>taskset -c</c> CPU list, null for none) pins it.</summary>
    public static async Task<ServerProcess> StartAsync(string kind, string mode, bool allocProfile, string? cpus, CancellationToken cancellationToken, params string[] extra)
    {
        ProcessStartInfo start = SelfStartInfo();
        if (cpus is not null)
        {
            string taskset = CpuAffinity.FindTaskset()
                ?? throw new InvalidOperationException($"--server-cpus {cpus}: taskset was not found on PATH (it is in util-linux); install it or leave out --server-cpus");
            start.ArgumentList.Insert(0, start.FileName);
            start.ArgumentList.Insert(0, cpus);
            start.ArgumentList.Insert(0, "-c");
            start.FileName = taskset;
        }

        foreach (string arg in new[] { BenchServerCommand.Name, "--kind", kind, "--mode", mode, "--listen", "127.0.0.1:0" }.Concat(extra))
        {
            start.ArgumentList.Add(arg);
        }

        if (allocProfile)
        {
            start.ArgumentList.Add("--alloc-profile");
        }

        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}");
        var server = new ServerProcess(process, kind, mode);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (server._stderr)
                {
                    server._stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        try
        {
            string line = await server.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (!line.StartsWith("READY ", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"server process ({kind}) said '{line}' instead of READY");
            }

            server.EndPoint = new IPEndPoint(IPAddress.Loopback, int.Parse(line.AsSpan(6), CultureInfo.InvariantCulture));
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The server's counters; <paramref name="collect"/> forces a full GC first (memory figures).</summary>
    public async Task<ServerStats> StatsAsync(bool collect = false, CancellationToken cancellationToken = default)
    {
        string line = await CommandAsync(collect ? "gcstats" : "stats", cancellationToken).ConfigureAwait(false);
        return JsonSerializer.Deserialize(line, BenchJsonContext.Default.ServerStats)
            ?? throw new InvalidOperationException($"server process ({Kind}) answered '{line}'");
    }

    /// <summary>The allocation sampler's top types since the last call (server started with --alloc-profile).</summary>
    public Task<string> AllocationsAsync(CancellationToken cancellationToken = default) => CommandAsync("allocs", cancellationToken);

    public async Task ResetAsync(CancellationToken cancellationToken = default)
        => await CommandAsync("reset", cancellationToken).ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await _process.StandardInput.WriteLineAsync("quit").ConfigureAwait(false);
                await _process.StandardInput.FlushAsync().ConfigureAwait(false);
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        finally
        {
            _process.Dispose();
            _gate.Dispose();
        }
    }

    public string StandardError()
    {
        lock (_stderr)
        {
            return _stderr.ToString();
        }
    }

    private async Task<string> CommandAsync(string command, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _process.StandardInput.WriteLineAsync(command).ConfigureAwait(false);
            await _process.StandardInput.FlushAsync(cancellationToken).ConfigureAwait(false);
            return await ReadLineAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_commandTimeout);
        try
        {
            return await _process.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"server process ({Kind}) exited: {StandardError()}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"server process ({Kind}) did not answer within {s_commandTimeout.TotalSeconds} s: {StandardError()}");
        }
    }

    /// <summary>How to run this tool again: its apphost (<c>dotnet run</c>, an installed tool's shim) or, when the
    /// host is <c>dotnet</c> itself (<c>dotnet WsGateway.LoadBench.dll</c>), <c>dotnet</c> with this
    /// assembly.</summary>
    private static ProcessStartInfo SelfStartInfo()
    {
        string? host = Environment.ProcessPath;
        if (host is not null && !Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return new ProcessStartInfo(host);
        }

        var start = new ProcessStartInfo(host ?? "dotnet");
        start.ArgumentList.Add(typeof(ServerProcess).Assembly.Location);
        return start;
    }
}
