using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using WsGateway.Cli.Tests.Infrastructure;

namespace WsGateway.Cli.Tests;

/// <summary>Issue 17, finding 2: <c>wsgw serve</c> under a low <c>ulimit -n</c>, flooded with more clients than it has
/// descriptors for. Client sockets never take the descriptors the runtime and the admin port need: the clients beyond
/// the capacity are answered 503 (or closed), never left in the listen backlog; the accepted ones keep working, the
/// process stays alive without spinning, and a new client gets in once others leave.</summary>
public sealed partial class DescriptorLimitProcessTests
{
    private const string Upgrade =
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    private const int FileLimit = 512;
    private const int Clients = 600;

    private static readonly TimeSpan s_answerTimeout = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData("native")]
    [InlineData("kestrel")]
    public async Task Under_ulimit_n_512_a_flood_of_600_clients_is_refused_beyond_capacity_and_the_gateway_keeps_serving(string transport)
    {
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeWithFileLimitAsync(FileLimit, "--transport", transport, "--handler", "echo", "--admin", "127.0.0.1:0", "--stats-interval", "0", "--log-level", "Warning");
        using WsgwProcess _ = serve;
        Uri health = new(HealthUrl().Match(serve.Stderr.First(l => l.Contains("listening on", StringComparison.Ordinal))).Groups[1].Value);
        var endPoint = new IPEndPoint(IPAddress.Loopback, url.Port);

        // Every client connects and sends its upgrade at once, as in a reconnect storm; the answers are read after.
        List<Socket> clients = [];
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                Socket client = await ConnectAsync(endPoint);
                clients.Add(client);
                await client.SendAsync(Encoding.ASCII.GetBytes(Upgrade), SocketFlags.None);
            }

            Answer[] answers = await Task.WhenAll(clients.Select(ReadAnswerAsync));

            List<Socket> accepted = [.. clients.Where((_, i) => answers[i] == Answer.SwitchingProtocols)];
            int refused = answers.Count(a => a is Answer.ServiceUnavailable or Answer.Closed);
            int unanswered = answers.Count(a => a == Answer.None);
            Assert.True(unanswered == 0, $"{unanswered} of {Clients} clients got no answer within {s_answerTimeout.TotalSeconds} s (left in the listen backlog); {accepted.Count} accepted, {refused} refused; running: {serve.IsRunning}\n{Tail(serve)}");
            Assert.True(serve.IsRunning, Tail(serve));
            Assert.Equal(0, answers.Count(a => a == Answer.Other));
            Assert.Equal(Clients - accepted.Count, refused);

            // The process did not run out: at start it said how it fitted its limits into the descriptors, and no
            // accept failed. At most that many clients are in, and some are.
            Match fitted = Fitted().Match(serve.Stderr.FirstOrDefault(l => l.Contains("RLIMIT_NOFILE", StringComparison.Ordinal)) ?? string.Empty);
            Assert.True(fitted.Success, $"no warning that the limits were lowered to fit {FileLimit} descriptors\n{Tail(serve)}");
            Assert.Equal(FileLimit, int.Parse(fitted.Groups["limit"].Value, CultureInfo.InvariantCulture));
            int capacity = int.Parse(fitted.Groups["connections"].Value, CultureInfo.InvariantCulture);
            Assert.InRange(accepted.Count, 1, capacity);
            Assert.DoesNotContain(serve.Stderr, l => l.Contains("Too many open files", StringComparison.Ordinal));

            // Accepted connections still work, the admin port answers, and nothing spins.
            await AssertEchoesAsync(serve, accepted);
            using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
            {
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(health)).StatusCode);
            }

            TimeSpan cpu = await CpuTimeOverAsync(serve.Id, TimeSpan.FromSeconds(2));
            Assert.True(cpu < TimeSpan.FromSeconds(1), $"the idle gateway used {cpu.TotalMilliseconds:0} ms of CPU in 2 s: a loop spins");
            Assert.True(serve.IsRunning, Tail(serve));

            // Half of the accepted clients leave; a new client gets in and is served.
            foreach (Socket leaving in accepted.Take(accepted.Count / 2))
            {
                leaving.Dispose();
            }

            // The server notices the departures at its next read of those sockets: a refused newcomer tries again.
            Answer lateAnswer = Answer.None;
            for (int attempt = 0; lateAnswer != Answer.SwitchingProtocols && attempt < 20; attempt++)
            {
                await Task.Delay(attempt == 0 ? 0 : 250);
                Socket late = await ConnectAsync(endPoint);
                clients.Add(late);
                await late.SendAsync(Encoding.ASCII.GetBytes(Upgrade), SocketFlags.None);
                lateAnswer = await ReadAnswerAsync(late);
                if (lateAnswer == Answer.SwitchingProtocols)
                {
                    await AssertEchoesAsync(serve, [late]);
                }
            }

            Assert.Equal(Answer.SwitchingProtocols, lateAnswer);
            await AssertEchoesAsync(serve, [.. accepted.Skip(accepted.Count / 2)]);

            await serve.StopAsync();
            Assert.Equal(0, serve.ExitCode);
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }
    }

    [Fact]
    public async Task Native_transport_out_of_descriptors_answers_the_backlog_503_on_its_spare_descriptor_and_recovers()
    {
        // The process runs out whatever the gateway's limits (here its soft limit is lowered under it, with prlimit, to
        // what it has open): the accepting loop must answer the waiting clients, log once, and not spin. Out of
        // descriptors the runtime itself aborts ("Out of memory.") whenever it starts a thread — what the reserve of
        // descriptors is for — so nothing here may start one then: the console logger's thread has started before
        // (debug logs of the first connection), and tiered compilation, whose background thread starts on demand, is off.
        Dictionary<string, string> noBackgroundJit = new() { ["DOTNET_TieredCompilation"] = "0" };
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync(noBackgroundJit, "--transport", "native", "--handler", "echo", "--admin", "none", "--stats-interval", "0", "--log-level", "Debug");
        using WsgwProcess _ = serve;
        var endPoint = new IPEndPoint(IPAddress.Loopback, url.Port);
        List<Socket> clients = [];
        try
        {
            Socket first = await ConnectAsync(endPoint);
            clients.Add(first);
            await first.SendAsync(Encoding.ASCII.GetBytes(Upgrade), SocketFlags.None);
            Assert.Equal(Answer.SwitchingProtocols, await ReadAnswerAsync(first));
            await AssertEchoesAsync(serve, [first]); // everything the handshake and the echo load is loaded

            await WaitForSteadyThreadsAsync(serve.Id); // past its start-up, the runtime starts no thread on its own
            int open = Directory.GetFiles($"/proc/{serve.Id}/fd").Length;
            await SetSoftFileLimitAsync(serve.Id, open);
            for (int i = 0; i < 20; i++)
            {
                Socket client = await ConnectAsync(endPoint);
                clients.Add(client);
                await client.SendAsync(Encoding.ASCII.GetBytes(Upgrade), SocketFlags.None);
            }

            Answer[] answers = await Task.WhenAll(clients.Skip(1).Select(ReadAnswerAsync));

            // The descriptors are given back at once: the runtime may need one.
            Assert.True(serve.IsRunning, $"the process died out of descriptors\n{Tail(serve)}");
            await SetSoftFileLimitAsync(serve.Id, 20_000);
            // Every client is answered (one may get in on a descriptor the process closed meanwhile), most with 503.
            Assert.True(answers.All(a => a is not (Answer.None or Answer.Other)), $"answers: {string.Join(", ", answers)}\n{Tail(serve)}");
            Assert.True(answers.Count(a => a == Answer.ServiceUnavailable) >= 15, $"answers: {string.Join(", ", answers)}\n{Tail(serve)}");
            Assert.True(serve.IsRunning, Tail(serve));
            string failing = Assert.Single(serve.Stderr, l => l.Contains("accept failed", StringComparison.Ordinal));
            Assert.Contains("Too many open files", failing, StringComparison.Ordinal);
            Assert.Contains("answered 503", failing, StringComparison.Ordinal);
            await AssertEchoesAsync(serve, [first]);

            // Descriptors free again: a new client is served, and the episode's end is logged with its count.
            await Task.Delay(1100);
            Socket late = await ConnectAsync(endPoint);
            clients.Add(late);
            await late.SendAsync(Encoding.ASCII.GetBytes(Upgrade), SocketFlags.None);
            Assert.Equal(Answer.SwitchingProtocols, await ReadAnswerAsync(late));
            await AssertEchoesAsync(serve, [late]);
            string recovered = await serve.WaitForStderrAsync(l => l.Contains("accepting again", StringComparison.Ordinal));
            Assert.Matches(@"Event loop 0: accepting again after \d+\.\d s; (1[5-9]|20) connections were refused at the accept meanwhile", recovered);

            await serve.StopAsync();
            Assert.Equal(0, serve.ExitCode);
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>Waits until the process has had the same number of threads for a second (at most 15 s).</summary>
    private static async Task WaitForSteadyThreadsAsync(int pid)
    {
        var clock = Stopwatch.StartNew();
        int threads = Threads(pid);
        var steady = Stopwatch.StartNew();
        while (steady.Elapsed < TimeSpan.FromSeconds(1) && clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(100);
            int now = Threads(pid);
            if (now != threads)
            {
                threads = now;
                steady.Restart();
            }
        }

        static int Threads(int pid)
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("Threads:", StringComparison.Ordinal))
                {
                    return int.Parse(line.AsSpan(8).Trim(), CultureInfo.InvariantCulture);
                }
            }

            return 0;
        }
    }

    /// <summary>Sets the soft <c>RLIMIT_NOFILE</c> of process <paramref name="pid"/> (util-linux <c>prlimit</c>).</summary>
    private static async Task SetSoftFileLimitAsync(int pid, int limit)
    {
        using var prlimit = Process.Start("prlimit", ["--pid", pid.ToString(CultureInfo.InvariantCulture), $"--nofile={limit}:"])!;
        await prlimit.WaitForExitAsync();
        Assert.Equal(0, prlimit.ExitCode);
    }

    private enum Answer
    {
        None,
        SwitchingProtocols,
        ServiceUnavailable,
        Closed,
        Other,
    }

    private static async Task<Socket> ConnectAsync(IPEndPoint endPoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(endPoint, timeout.Token);
        return socket;
    }

    /// <summary>Reads the response head: 101, 503, a close (end of stream or reset) before any answer, or nothing
    /// within the time limit.</summary>
    private static async Task<Answer> ReadAnswerAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(s_answerTimeout);
        var head = new StringBuilder();
        byte[] one = new byte[1];
        try
        {
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                if (await socket.ReceiveAsync(one, SocketFlags.None, timeout.Token) == 0)
                {
                    return head.Length == 0 ? Answer.Closed : Answer.Other;
                }

                head.Append((char)one[0]);
            }
        }
        catch (OperationCanceledException)
        {
            return Answer.None;
        }
        catch (SocketException)
        {
            return head.Length == 0 ? Answer.Closed : Answer.Other;
        }

        string text = head.ToString();
        return text.StartsWith("HTTP/1.1 101 ", StringComparison.Ordinal) ? Answer.SwitchingProtocols
            : text.StartsWith("HTTP/1.1 503 ", StringComparison.Ordinal) ? Answer.ServiceUnavailable
            : Answer.Other;
    }

    /// <summary>Each socket sends a masked binary frame and reads the echo handler's copy of it.</summary>
    private static async Task AssertEchoesAsync(WsgwProcess serve, IReadOnlyList<Socket> sockets)
    {
        byte[] frame = [0x82, 0x82, 0, 0, 0, 0, (byte)'h', (byte)'i']; // FIN binary, masked with a zero key, "hi"
        await Task.WhenAll(sockets.Select(s => s.SendAsync(frame, SocketFlags.None)));
        foreach (Socket socket in sockets)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            byte[] echo = new byte[4];
            int read = 0;
            while (read < echo.Length)
            {
                int n = await socket.ReceiveAsync(echo.AsMemory(read), SocketFlags.None, timeout.Token);
                Assert.True(n > 0, $"an accepted connection was closed; running: {serve.IsRunning}\n{Tail(serve)}");
                read += n;
            }

            Assert.Equal(new byte[] { 0x82, 2, (byte)'h', (byte)'i' }, echo);
        }
    }

    /// <summary>CPU time (user and system) the process used during <paramref name="period"/>.</summary>
    private static async Task<TimeSpan> CpuTimeOverAsync(int pid, TimeSpan period)
    {
        long before = CpuTicks(pid);
        await Task.Delay(period);
        long after = CpuTicks(pid);
        return TimeSpan.FromSeconds((after - before) / 100.0); // USER_HZ
    }

    private static long CpuTicks(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture); // utime, stime
    }

    private static string Tail(WsgwProcess serve) => "standard error:\n" + string.Join('\n', serve.Stderr.TakeLast(20));

    [GeneratedRegex(@"may open (?<limit>\d+) \(RLIMIT_NOFILE\).* lowered to (?<connections>\d+) and (?<pending>\d+)")]
    private static partial Regex Fitted();

    [GeneratedRegex(@"health (http://[^;\s]+)")]
    private static partial Regex HealthUrl();
}
