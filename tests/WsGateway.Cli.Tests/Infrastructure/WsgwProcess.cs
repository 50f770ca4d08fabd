using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace WsGateway.Cli.Tests.Infrastructure;

/// <summary>A real <c>wsgw</c> child process (<c>dotnet wsgw.dll ...</c>) with its standard output and standard error
/// collected line by line, separately.</summary>
internal sealed partial class WsgwProcess : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WsgwProcess(Process process) => _process = process;

    /// <summary>wsgw.dll, beside the test assembly (the project reference copies it).</summary>
    public static string WsgwDll => Path.Combine(AppContext.BaseDirectory, "wsgw.dll");

    /// <summary>Lines written to standard output so far.</summary>
    public IReadOnlyList<string> Stdout => [.. _stdout];

    /// <summary>Lines written to standard error so far.</summary>
    public IReadOnlyList<string> Stderr => [.. _stderr];

    public int ExitCode => _process.ExitCode;

    /// <summary>The process id (for /proc/ID/status, signals).</summary>
    public int Id => _process.Id;

    public static WsgwProcess Start(params string[] args) => Start(null, args);

    /// <summary>Starts <c>wsgw</c> with <paramref name="environment"/> added to this process's environment.</summary>
    public static WsgwProcess Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        info.ArgumentList.Add(WsgwDll);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Launch(info);
    }

    /// <summary>Starts an installed <c>wsgw</c> (the <c>dotnet tool install</c> shim at <paramref name="program"/>),
    /// with <paramref name="environment"/> added; <c>serve</c> returns once its banner gives the URL.</summary>
    public static WsgwProcess StartProgram(string program, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Launch(info);
    }

    /// <summary><see cref="StartProgram"/> of <c>serve</c> on a free port, once its banner gives the URL.</summary>
    public static Task<(WsgwProcess Process, Uri Url)> StartProgramServeAsync(string program, IReadOnlyDictionary<string, string>? environment, params string[] args)
        => WaitForBannerAsync(StartProgram(program, environment, ["serve", "--listen", "127.0.0.1:0", .. args]));

    /// <summary>Starts <c>wsgw</c> under <c>ulimit -n <paramref name="openFiles"/></c> (soft and hard limit, so the
    /// runtime cannot raise it), through <c>bash -c '... exec dotnet ...'</c>: the process id is wsgw's own.</summary>
    public static WsgwProcess StartWithFileLimit(int openFiles, params string[] args)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("ulimit -n \"$0\" && exec dotnet \"$@\"");
        info.ArgumentList.Add(openFiles.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.ArgumentList.Add(WsgwDll);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Launch(info);
    }

    private static WsgwProcess Launch(ProcessStartInfo info)
    {
        var process = new Process { StartInfo = info };
        var wsgw = new WsgwProcess(process);
        process.OutputDataReceived += (_, e) => Collect(e.Data, wsgw._stdout, wsgw._stdoutClosed);
        process.ErrorDataReceived += (_, e) => Collect(e.Data, wsgw._stderr, wsgw._stderrClosed);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wsgw;
    }

    /// <summary>Runs <c>wsgw</c> to its end.</summary>
    public static async Task<WsgwProcess> RunAsync(params string[] args)
    {
        WsgwProcess wsgw = Start(args);
        await wsgw.WaitForExitAsync();
        return wsgw;
    }

    /// <summary>Starts <c>wsgw serve</c> on a free port and returns once its banner (on standard error) gives the
    /// gateway's URL.</summary>
    public static Task<(WsgwProcess Process, Uri Url)> StartServeAsync(params string[] args)
        => WaitForBannerAsync(Start(["serve", "--listen", "127.0.0.1:0", .. args]));

    /// <summary><see cref="StartServeAsync(string[])"/> with <paramref name="environment"/> added.</summary>
    public static Task<(WsgwProcess Process, Uri Url)> StartServeAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
        => WaitForBannerAsync(Start(environment, ["serve", "--listen", "127.0.0.1:0", .. args]));

    /// <summary><see cref="StartServeAsync(string[])"/> under <c>ulimit -n <paramref name="openFiles"/></c>.</summary>
    public static Task<(WsgwProcess Process, Uri Url)> StartServeWithFileLimitAsync(int openFiles, params string[] args)
        => WaitForBannerAsync(StartWithFileLimit(openFiles, ["serve", "--listen", "127.0.0.1:0", .. args]));

    /// <summary>Whether the process is still running.</summary>
    public bool IsRunning => !_process.HasExited;

    private static async Task<(WsgwProcess Process, Uri Url)> WaitForBannerAsync(WsgwProcess wsgw)
    {
        string banner = await wsgw.WaitForStderrAsync(l => l.Contains("listening on", StringComparison.Ordinal));
        Match url = ListeningOn().Match(banner);
        Assert.True(url.Success, $"unexpected banner: {banner}");
        return (wsgw, new Uri(url.Groups[1].Value));
    }

    /// <summary>Waits for a line of standard error matching <paramref name="match"/>.</summary>
    public Task<string> WaitForStderrAsync(Func<string, bool> match) => WaitForAsync(_stderr, match, "standard error");

    /// <summary>Waits for a line of standard output matching <paramref name="match"/>.</summary>
    public Task<string> WaitForStdoutAsync(Func<string, bool> match) => WaitForAsync(_stdout, match, "standard output");

    /// <summary>Waits until standard output holds <paramref name="count"/> lines.</summary>
    public async Task WaitForStdoutLinesAsync(int count)
    {
        var clock = Stopwatch.StartNew();
        while (_stdout.Count < count)
        {
            if (clock.Elapsed > s_timeout || _process.HasExited)
            {
                await Task.Delay(200);
                Assert.Fail($"expected {count} lines on standard output, got {_stdout.Count}:\n{string.Join('\n', _stdout)}\nstandard error:\n{string.Join('\n', _stderr)}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>SIGTERM (a graceful stop), then the exit.</summary>
    public async Task StopAsync()
    {
        using (Process kill = Process.Start("kill", $"-15 {_process.Id}"))
        {
            await kill.WaitForExitAsync();
            Assert.Equal(0, kill.ExitCode);
        }

        await WaitForExitAsync();
    }

    public async Task WaitForExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(s_timeout);
        await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(s_timeout);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
    }

    private async Task<string> WaitForAsync(ConcurrentQueue<string> lines, Func<string, bool> match, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            bool exited = _process.HasExited;
            if (exited)
            {
                // Its last lines may still be on the way.
                await Task.WhenAny(Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task), Task.Delay(s_timeout));
            }

            foreach (string line in lines)
            {
                if (match(line))
                {
                    return line;
                }
            }

            if (exited || clock.Elapsed > s_timeout)
            {
                Assert.Fail($"no such line on {what}; standard output:\n{string.Join('\n', _stdout)}\nstandard error:\n{string.Join('\n', _stderr)}");
            }

            await Task.Delay(20);
        }
    }

    private static void Collect(string? line, ConcurrentQueue<string> lines, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
        }
        else
        {
            lines.Enqueue(line);
        }
    }

    [GeneratedRegex(@"listening on (wss?://\S+)")]
    private static partial Regex ListeningOn();
}
