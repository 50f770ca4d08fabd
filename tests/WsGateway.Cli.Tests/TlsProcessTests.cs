using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using WsGateway.Cli.Tests.Infrastructure;
using WsGateway.Client;

namespace WsGateway.Cli.Tests;

/// <summary><c>wsgw serve --cert/--key</c> and <c>wsgw send --ca/--insecure</c> as a user runs them: certificates made
/// in the test and written as PEM and PKCS#12 files, the real tool in child processes, and a client no one here wrote
/// (the npm <c>ws</c> package on Node's TLS).</summary>
public sealed class TlsProcessTests
{
    private const string Password = "pfx-pa55word";

    /// <summary><c>wsgw serve --cert cert.pem --key key.pem</c> of <paramref name="certificate"/>, without admin
    /// endpoints or live view; returns the process, its wss:// URL and the certificate's PEM file (for --ca).</summary>
    private static async Task<(WsgwProcess Serve, Uri Url, string Cert)> StartWssAsync(TlsFiles files, X509Certificate2 certificate)
    {
        string cert = files.WriteCertificates("cert.pem", certificate);
        string key = files.WriteKey("key.pem", certificate);
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync("--cert", cert, "--key", key, "--admin", "none", "--stats-interval", "0");
        return (serve, url, cert);
    }

    [Fact]
    public async Task Serve_with_a_pem_certificate_and_key_serves_wss_and_send_with_ca_gets_its_trades_through()
    {
        using var files = new TlsFiles();
        using X509Certificate2 certificate = TlsFiles.SelfSigned();
        (WsgwProcess serve, Uri url, string cert) = await StartWssAsync(files, certificate);
        using WsgwProcess _ = serve;
        string banner = serve.Stderr.First(l => l.Contains("listening on", StringComparison.Ordinal));
        Assert.Equal("wss", url.Scheme);
        Assert.Contains("transport: kestrel", banner, StringComparison.Ordinal); // auto picks Kestrel for wss://
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"certificate: CN=localhost, expires {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}"), banner, StringComparison.Ordinal);
        Assert.DoesNotContain(serve.Stderr, l => l.Contains("warning", StringComparison.Ordinal));

        using WsgwProcess send = await WsgwProcess.RunAsync("send", "--url", url.ToString(), "--ca", cert, "-n", "25", "--batch", "5");

        Assert.Equal(0, send.ExitCode);
        Assert.Empty(send.Stderr);
        Assert.Contains(send.Stdout, l => l.StartsWith("wsgw send: sent 25 trades in 5 frames", StringComparison.Ordinal));
        await serve.StopAsync();
        Assert.Equal(0, serve.ExitCode);
        Assert.Contains("wsgw: 1 connections, 25 trades, total quantity 325, 0 errors", serve.Stdout);
    }

    [Fact]
    public async Task Send_refuses_a_self_signed_certificate_in_one_line_with_exit_1_and_insecure_accepts_it_saying_so()
    {
        using var files = new TlsFiles();
        using X509Certificate2 certificate = TlsFiles.SelfSigned();
        (WsgwProcess serve, Uri url, string cert) = await StartWssAsync(files, certificate);
        using WsgwProcess _ = serve;

        using WsgwProcess refused = await WsgwProcess.RunAsync("send", "--url", url.ToString(), "-n", "5");

        Assert.Equal(1, refused.ExitCode);
        Assert.Empty(refused.Stdout);
        string line = Assert.Single(refused.Stderr);
        Assert.StartsWith($"wsgw send: cannot connect to {url}: the server's certificate (CN=localhost) is not trusted: its root is not trusted (UntrustedRoot", line, StringComparison.Ordinal);
        Assert.EndsWith("--ca FILE trusts a private CA or a self-signed certificate, --insecure accepts any", line, StringComparison.Ordinal);

        using WsgwProcess insecure = await WsgwProcess.RunAsync("send", "--url", url.ToString(), "-n", "3", "--insecure");

        Assert.Equal(0, insecure.ExitCode);
        Assert.Equal($"wsgw send: --insecure: the server's certificate is not checked; anyone between here and 127.0.0.1 can read and change the trades", Assert.Single(insecure.Stderr));
        await serve.StopAsync();
        Assert.Contains("wsgw: 1 connections, 3 trades, total quantity 6, 0 errors", serve.Stdout); // the refused one never got in
    }

    [Fact]
    public async Task Send_with_ca_still_checks_the_host_name()
    {
        using var files = new TlsFiles();
        using X509Certificate2 certificate = TlsFiles.SelfSigned(dnsNames: ["gateway.example.com"], ipLoopback: false);
        (WsgwProcess serve, Uri url, string cert) = await StartWssAsync(files, certificate);
        using WsgwProcess _ = serve;

        using WsgwProcess send = await WsgwProcess.RunAsync("send", "--url", url.ToString(), "--ca", cert, "-n", "5");

        Assert.Equal(1, send.ExitCode);
        Assert.Equal($"wsgw send: cannot connect to {url}: the server's certificate (CN=gateway.example.com) is not for 127.0.0.1: it names gateway.example.com", Assert.Single(send.Stderr));
    }

    [Fact]
    public async Task A_private_ca_chain_is_served_with_its_intermediate_so_a_client_trusting_only_the_root_gets_in()
    {
        using var files = new TlsFiles();
        using X509Certificate2 root = TlsFiles.Ca("Test Root CA");
        using X509Certificate2 intermediate = TlsFiles.Ca("Test Issuing CA", issuer: root);
        using X509Certificate2 leaf = TlsFiles.Issue(intermediate);
        string fullchain = files.WriteCertificates("fullchain.pem", leaf, intermediate);
        string key = files.WriteKey("privkey.pem", leaf);
        string rootPem = files.WriteCertificates("root.pem", root);
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync("--cert", fullchain, "--key", key, "--admin", "none", "--stats-interval", "0");
        using WsgwProcess _ = serve;

        // Only the root is known to the client: the server must send the intermediate (ServerCertificateChain).
        using WsgwProcess send = await WsgwProcess.RunAsync("send", "--url", url.ToString(), "--ca", rootPem, "-n", "4");
        JsonElement node = await NodeWsClient.RunAsync(url, rootPem, count: 2);

        Assert.True(send.ExitCode == 0, string.Join('\n', send.Stderr));
        Assert.Equal(1000, node.GetProperty("closeCode").GetInt32());
        await serve.StopAsync();
        Assert.Contains("wsgw: 2 connections, 6 trades, total quantity 13, 0 errors", serve.Stdout);
    }

    [Fact]
    public async Task A_pkcs12_file_is_served_with_its_password_from_WSGW_CERT_PASSWORD()
    {
        using var files = new TlsFiles();
        using X509Certificate2 certificate = TlsFiles.SelfSigned(rsa: true);
        string pfx = files.WritePfx("server.pfx", certificate, Password);
        string cert = files.WriteCertificates("cert.pem", certificate);

        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync(
            new Dictionary<string, string> { ["WSGW_CERT_PASSWORD"] = Password }, "--cert", pfx, "--admin", "none", "--stats-interval", "0");
        using WsgwProcess _ = serve;
        using WsgwProcess send = await WsgwProcess.RunAsync("send", "--url", url.ToString(), "--ca", cert, "-n", "3");

        Assert.Equal("wss", url.Scheme);
        Assert.True(send.ExitCode == 0, string.Join('\n', send.Stderr));
        await serve.StopAsync();
        Assert.Contains("wsgw: 1 connections, 3 trades, total quantity 6, 0 errors", serve.Stdout);
    }

    [Fact]
    public async Task A_pem_file_holding_the_certificate_and_its_encrypted_key_is_served_with_the_password_from_WSGW_CERT_PASSWORD()
    {
        using var files = new TlsFiles();
        using X509Certificate2 certificate = TlsFiles.SelfSigned();
        string cert = files.WriteCertificates("cert.pem", certificate);
        string combined = files.PathOf("combined.pem");
        File.WriteAllText(combined, File.ReadAllText(cert) + File.ReadAllText(files.WriteKey("enc.pem", certificate, password: Password)));

        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync(
            new Dictionary<string, string> { ["WSGW_CERT_PASSWORD"] = Password }, "--cert", combined, "--admin", "none", "--stats-interval", "0");
        using WsgwProcess _ = serve;
        using WsgwProcess send = await WsgwProcess.RunAsync("send", "--url", url.ToString(), "--ca", cert, "-n", "2");

        Assert.True(send.ExitCode == 0, string.Join('\n', send.Stderr));
        await serve.StopAsync();
        Assert.Contains("wsgw: 1 connections, 2 trades, total quantity 3, 0 errors", serve.Stdout);
    }

    [Fact]
    public async Task A_certificate_expiring_within_14_days_is_served_with_a_warning()
    {
        using var files = new TlsFiles();
        using X509Certificate2 certificate = TlsFiles.SelfSigned(notAfter: DateTimeOffset.UtcNow.AddDays(3));
        string cert = files.WriteCertificates("cert.pem", certificate);
        string key = files.WriteKey("key.pem", certificate);

        (WsgwProcess serve, Uri _) = await WsgwProcess.StartServeAsync("--cert", cert, "--key", key, "--admin", "none", "--stats-interval", "0");
        using WsgwProcess process = serve;

        Assert.Matches($@"^wsgw serve: warning: --cert {Regex.Escape(cert)}: the certificate \(CN=localhost\) expires on \d{{4}}-\d\d-\d\d \d\d:\d\d UTC, in 3 days; renew it and restart wsgw serve$", serve.Stderr[0]);
    }

    public static TheoryData<string, string> CertificateProblems => new()
    {
        { "missing", "wsgw serve: --cert {dir}/nosuch.pem: file not found" },
        { "no-key", "wsgw serve: --cert {dir}/cert.pem is a PEM certificate without its private key: give the key with --key FILE (PEM)" },
        { "other-key", "wsgw serve: --key {dir}/other.pem: the private key does not match the certificate in --cert {dir}/cert.pem (CN=localhost)" },
        { "rsa-key-for-ec", "wsgw serve: --key {dir}/rsa.pem: the private key cannot be used with the certificate in --cert {dir}/cert.pem (ECDSA)" },
        { "encrypted-key-no-password", "wsgw serve: --key {dir}/enc.pem: the private key is encrypted: set WSGW_CERT_PASSWORD to its password (never on the command line)" },
        { "encrypted-key-wrong-password", "wsgw serve: --key {dir}/enc.pem: the password in WSGW_CERT_PASSWORD does not decrypt the private key" },
        { "expired", "wsgw serve: --cert {dir}/old.pem: the certificate (CN=localhost) expired on " },
        { "not-yet-valid", "wsgw serve: --cert {dir}/new.pem: the certificate (CN=localhost) is not valid before " },
        { "client-only", "wsgw serve: --cert {dir}/client.pem: the certificate (CN=localhost) is not for TLS servers: its extended key usage lacks serverAuth (1.3.6.1.5.5.7.3.1)" },
        { "pfx-no-password", "wsgw serve: --cert {dir}/server.pfx: the PKCS#12 file is protected by a password: set WSGW_CERT_PASSWORD to it (never on the command line)" },
        { "pfx-wrong-password", "wsgw serve: --cert {dir}/server.pfx: the password in WSGW_CERT_PASSWORD is not the PKCS#12 file's password" },
        { "pfx-with-key", "wsgw serve: --key is for a PEM --cert: {dir}/server.pfx is not PEM (a PKCS#12 file carries its own key; its password comes from WSGW_CERT_PASSWORD)" },
        { "garbage", "wsgw serve: --cert {dir}/garbage.pfx: neither PEM nor a readable PKCS#12 (.pfx) file: " },
    };

    [Theory]
    [MemberData(nameof(CertificateProblems))]
    public async Task A_certificate_that_cannot_be_served_is_one_line_naming_the_file_and_exit_2(string problem, string expected)
    {
        using var files = new TlsFiles();
        using X509Certificate2 certificate = TlsFiles.SelfSigned();
        string cert = files.WriteCertificates("cert.pem", certificate);
        Dictionary<string, string> environment = [];
        string[] tls = problem switch
        {
            "missing" => ["--cert", files.PathOf("nosuch.pem"), "--key", files.WriteKey("key.pem", certificate)],
            "no-key" => ["--cert", cert],
            "other-key" => ["--cert", cert, "--key", WriteKeyOf(files, "other.pem", TlsFiles.SelfSigned())],
            "rsa-key-for-ec" => ["--cert", cert, "--key", WriteKeyOf(files, "rsa.pem", TlsFiles.SelfSigned(rsa: true))],
            "encrypted-key-no-password" => ["--cert", cert, "--key", files.WriteKey("enc.pem", certificate, password: Password)],
            "encrypted-key-wrong-password" => ["--cert", cert, "--key", files.WriteKey("enc.pem", certificate, password: Password)],
            "expired" => Pem(files, "old.pem", TlsFiles.SelfSigned(notBefore: DateTimeOffset.UtcNow.AddDays(-30), notAfter: DateTimeOffset.UtcNow.AddDays(-1))),
            "not-yet-valid" => Pem(files, "new.pem", TlsFiles.SelfSigned(notBefore: DateTimeOffset.UtcNow.AddDays(1), notAfter: DateTimeOffset.UtcNow.AddDays(30))),
            "client-only" => Pem(files, "client.pem", TlsFiles.SelfSigned(usage: TlsFiles.ClientAuthUsage)),
            "pfx-no-password" => ["--cert", files.WritePfx("server.pfx", certificate, Password)],
            "pfx-wrong-password" => ["--cert", files.WritePfx("server.pfx", certificate, Password)],
            "pfx-with-key" => ["--cert", files.WritePfx("server.pfx", certificate, null), "--key", files.WriteKey("key.pem", certificate)],
            "garbage" => ["--cert", WriteBytes(files, "garbage.pfx", [0x30, 0x03, 0x02, 0x01, 0x07, 0x00])],
            _ => throw new ArgumentOutOfRangeException(nameof(problem)),
        };
        if (problem is "pfx-wrong-password" or "encrypted-key-wrong-password")
        {
            environment["WSGW_CERT_PASSWORD"] = "not-" + Password;
        }

        using WsgwProcess serve = WsgwProcess.Start(environment, ["serve", "--listen", "127.0.0.1:0", "--admin", "none", .. tls]);
        await serve.WaitForExitAsync();

        Assert.Equal(2, serve.ExitCode);
        Assert.Empty(serve.Stdout);
        string line = Assert.Single(serve.Stderr);
        Assert.StartsWith(expected.Replace("{dir}", files.Directory, StringComparison.Ordinal), line, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", line, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "serve", "--transport", "native", "--cert", "c.pem", "--key", "k.pem" }, "wsgw serve: --transport native serves ws:// only: --cert (wss://) needs --transport auto or kestrel (see wsgw serve --help)")]
    [InlineData(new[] { "serve", "--key", "k.pem" }, "wsgw serve: --key is the private key of --cert: give the certificate with --cert FILE (see wsgw serve --help)")]
    [InlineData(new[] { "send", "--ca", "ca.pem" }, "wsgw send: --ca is for wss:// URLs, got --url ws://127.0.0.1:9001/ (the default) (see wsgw send --help)")]
    [InlineData(new[] { "send", "--url", "ws://127.0.0.1:9/", "--insecure" }, "wsgw send: --insecure is for wss:// URLs, got --url ws://127.0.0.1:9/ (see wsgw send --help)")]
    [InlineData(new[] { "send", "--url", "wss://127.0.0.1:9/", "--insecure", "--ca", "ca.pem" }, "wsgw send: --ca and --insecure exclude each other: --ca trusts one more CA, --insecure trusts any certificate (see wsgw send --help)")]
    public async Task Tls_options_that_do_not_fit_are_a_usage_error_in_one_line(string[] args, string expected)
    {
        using WsgwProcess wsgw = await WsgwProcess.RunAsync(args);

        Assert.Equal(2, wsgw.ExitCode);
        Assert.Empty(wsgw.Stdout);
        Assert.Equal(expected, Assert.Single(wsgw.Stderr));
    }

    [Fact]
    public async Task Send_with_a_ca_file_that_is_missing_or_holds_no_certificate_exits_2_naming_it()
    {
        using var files = new TlsFiles();
        string missing = files.PathOf("nosuch.pem");
        string empty = WriteBytes(files, "empty.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"u8.ToArray());

        using WsgwProcess first = await WsgwProcess.RunAsync("send", "--url", "wss://127.0.0.1:9/", "--ca", missing);
        using WsgwProcess second = await WsgwProcess.RunAsync("send", "--url", "wss://127.0.0.1:9/", "--ca", empty);

        Assert.Equal(2, first.ExitCode);
        Assert.Equal($"wsgw send: --ca {missing}: file not found", Assert.Single(first.Stderr));
        Assert.Equal(2, second.ExitCode);
        Assert.Equal($"wsgw send: --ca {empty}: no PEM CERTIFICATE block in it; expected the CA, or the server's self-signed certificate", Assert.Single(second.Stderr));
    }

    [Fact]
    public async Task With_a_certificate_the_admin_endpoints_are_https_and_their_page_may_open_wss()
    {
        using var files = new TlsFiles();
        using X509Certificate2 certificate = TlsFiles.SelfSigned();
        string cert = files.WriteCertificates("cert.pem", certificate);
        string key = files.WriteKey("key.pem", certificate);
        // A port known before the start: with port 0 the admin page's origin is not known when the gateway's
        // origin list is made (every browser is refused then).
        int adminPort;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            adminPort = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync("--cert", cert, "--key", key, "--admin", $"127.0.0.1:{adminPort}", "--stats-interval", "0");
        using WsgwProcess _ = serve;
        string banner = serve.Stderr.First(l => l.Contains("listening on", StringComparison.Ordinal));
        Match dashboard = Regex.Match(banner, @"dashboard (https://127\.0\.0\.1:(\d+)/)");
        Assert.True(dashboard.Success, banner);
        var admin = new Uri(dashboard.Groups[1].Value);

        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, errors)
            => errors == SslPolicyErrors.RemoteCertificateChainErrors && presented is not null && presented.GetCertHashString() == certificate.GetCertHashString();
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(20) };
        using JsonDocument health = JsonDocument.Parse(await http.GetStringAsync(new Uri(admin, "health")));
        using JsonDocument stats = JsonDocument.Parse(await http.GetStringAsync(new Uri(admin, "api/stats")));
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetStringAsync(new UriBuilder(admin) { Scheme = "http" }.Uri));

        Assert.Equal("Healthy", health.RootElement.GetProperty("status").GetString());
        Assert.Equal(url.ToString(), stats.RootElement.GetProperty("gateway").GetProperty("url").GetString());

        // The page's own origin is https:// now: a browser on it may connect; one claiming the http:// origin may not.
        var options = new TradeClientOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true };
        options.RequestHeaders.Add(new("Origin", $"https://127.0.0.1:{admin.Port}"));
        await using (TradeClient client = await TradeClient.ConnectAsync(url, options))
        {
            await client.CloseAsync();
        }

        var http1 = new TradeClientOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true };
        http1.RequestHeaders.Add(new("Origin", $"http://127.0.0.1:{admin.Port}"));
        WebSocketHandshakeException refused = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => TradeClient.ConnectAsync(url, http1));
        Assert.Equal(403, refused.StatusCode);
    }

    [Fact]
    public async Task Node_ws_connects_to_wss_with_the_ca_and_the_server_counts_its_trades_and_without_it_is_refused()
    {
        using var files = new TlsFiles();
        using X509Certificate2 certificate = TlsFiles.SelfSigned();
        (WsgwProcess serve, Uri url, string cert) = await StartWssAsync(files, certificate);
        using WsgwProcess _ = serve;

        JsonElement trusted = await NodeWsClient.RunAsync(url, cert, count: 12);
        JsonElement untrusted = await NodeWsClient.RunAsync(url, ca: null, count: 12);

        Assert.True(trusted.TryGetProperty("closeCode", out JsonElement code), trusted.ToString());
        Assert.Equal(1000, code.GetInt32());
        Assert.Equal(12, trusted.GetProperty("sent").GetInt32());
        Assert.Equal("DEPTH_ZERO_SELF_SIGNED_CERT", untrusted.GetProperty("code").GetString()); // Node checks, too
        await serve.WaitForStdoutAsync(l => l.StartsWith("Session stats:", StringComparison.Ordinal));
        Assert.Matches(@"^Session stats: connection \d+ \(127\.0\.0\.1:\d+\): 12 trades, total quantity 78, 0 errors, closed 1000$", Assert.Single(serve.Stdout));
        await serve.StopAsync();
        Assert.Equal(0, serve.ExitCode);
    }

    private static string WriteKeyOf(TlsFiles files, string name, X509Certificate2 certificate)
    {
        using (certificate)
        {
            return files.WriteKey(name, certificate);
        }
    }

    private static string[] Pem(TlsFiles files, string name, X509Certificate2 certificate)
    {
        using (certificate)
        {
            return ["--cert", files.WriteCertificates(name, certificate), "--key", files.WriteKey(name + ".key", certificate)];
        }
    }

    private static string WriteBytes(TlsFiles files, string name, byte[] bytes)
    {
        string path = files.PathOf(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}

/// <summary>Runs <c>js/wss-client.mjs</c>: the npm <c>ws</c> package, pinned in <c>js/package-lock.json</c> and
/// installed by <c>./test.sh</c>. Missing node or ws fails the test with what to install.</summary>
internal static class NodeWsClient
{
    public static async Task<JsonElement> RunAsync(Uri url, string? ca, int count)
    {
        string directory = Path.Combine(RepositoryRoot(), "tests", "WsGateway.Cli.Tests", "js");
        string? node = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "node"))
            .FirstOrDefault(File.Exists);
        Assert.True(node is not null, "node was not found on PATH: the wss:// interoperability test needs Node.js 20 or later (apt-get install nodejs npm), then ./test.sh.");
        Assert.True(File.Exists(Path.Combine(directory, "node_modules", "ws", "package.json")), $"the npm ws package is not installed in {directory}: run ./test.sh, or there: npm ci");

        var start = new ProcessStartInfo(node!) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(directory, "wss-client.mjs"));
        start.ArgumentList.Add(JsonSerializer.Serialize(new { url = url.ToString(), ca, count }));
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        string output = await stdout;
        Assert.True(process.ExitCode == 0, $"wss-client.mjs exited {process.ExitCode}:\n{await stderr}\n{output}");
        string line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        using JsonDocument document = JsonDocument.Parse(line);
        return document.RootElement.Clone();
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "WsGateway.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"WsGateway.sln was not found above {AppContext.BaseDirectory}");
    }
}
