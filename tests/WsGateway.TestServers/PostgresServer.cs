using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace WsGateway.Testing;

/// <summary>
/// A real PostgreSQL server (Debian's postgresql-15, which ./test.sh installs when missing) in a temporary data folder,
/// on its own port on 127.0.0.1: initdb, pg_ctl start/stop/restart, and the folder deleted at the end. As root the
/// tools run as the postgres user (PostgreSQL refuses root), otherwise as the current user. The server's settings are
/// the defaults (fsync and synchronous_commit on) but for the port, the loopback address, the socket folder and
/// <c>max_connections=50</c>. Used (WsGateway.TestServers) by the sink tests (where a subclass is the xUnit fixture), the examples' tests
/// and the load benchmark's sink scenario.
/// </summary>
public class PostgresServer
{
    private static readonly TimeSpan s_toolTimeout = TimeSpan.FromSeconds(60);
    private string _bin = "";
    private string _dataDir = "";
    private string _root = "";

    public int Port { get; private set; }

    /// <summary>A connection string for the superuser, database postgres; pooling on.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Timeout=5;Command Timeout=30";

    public async Task InitializeAsync()
    {
        _bin = FindBin();
        _root = Path.Combine(Path.GetTempPath(), "wsgw-pg-" + Guid.NewGuid().ToString("N"));
        _dataDir = Path.Combine(_root, "data");
        Directory.CreateDirectory(_root);
        if (IsRoot)
        {
            await RunAsync("chown", ["postgres:postgres", _root], asPostgres: false);
        }

        Port = FreePort();
        await RunAsync(Path.Combine(_bin, "initdb"), ["-D", _dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
        await StartAsync();
    }

    public Task StartAsync() => RunAsync(Path.Combine(_bin, "pg_ctl"),
        ["-D", _dataDir, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "30", "start",
         "-o", $"-p {Port} -c listen_addresses=127.0.0.1 -k {_root} -c max_connections=50"]);

    /// <summary>Stops the server the hard way (immediate: no checkpoint, clients cut off, recovery from the WAL at
    /// the next start), as a crash would.</summary>
    public Task StopImmediateAsync() => RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", _dataDir, "-w", "-t", "30", "stop", "-m", "immediate"]);

    public async Task DisposeAsync()
    {
        try
        {
            await StopImmediateAsync();
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The server's log, for a failing test's message.</summary>
    public string Log => File.Exists(Path.Combine(_root, "server.log")) ? File.ReadAllText(Path.Combine(_root, "server.log")) : "";

    private static bool IsRoot => Environment.UserName == "root";

    private static string FindBin()
    {
        const string Root = "/usr/lib/postgresql";
        string[] versions = Directory.Exists(Root) ? Directory.GetDirectories(Root) : [];
        string? bin = versions.Select(v => Path.Combine(v, "bin")).Where(b => File.Exists(Path.Combine(b, "initdb")))
            .OrderByDescending(b => b, StringComparer.Ordinal).FirstOrDefault();
        return bin ?? throw new InvalidOperationException(
            $"PostgreSQL server binaries not found under {Root}/*/bin (initdb, pg_ctl): install them with 'apt-get install postgresql-15' (./test.sh does it when missing).");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string file, string[] args, bool asPostgres = true)
    {
        var info = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asPostgres && IsRoot)
        {
            info.FileName = "runuser";
            foreach (string a in (string[])["-u", "postgres", "--", file, .. args])
            {
                info.ArgumentList.Add(a);
            }
        }
        else
        {
            info.FileName = file;
            foreach (string a in args)
            {
                info.ArgumentList.Add(a);
            }
        }

        using Process process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(s_toolTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} did not finish within {s_toolTimeout.TotalSeconds} s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {await stdout}{await stderr}");
        }
    }
}
