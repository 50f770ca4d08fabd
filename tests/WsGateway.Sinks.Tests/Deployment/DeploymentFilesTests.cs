using System.Diagnostics;

namespace WsGateway.Sinks.Tests.Deployment;

/// <summary>The files of deploy/ that docs/deployment.md shows, checked by the tools that read them: HAProxy's
/// configuration by <c>haproxy -c</c>, the systemd unit by <c>systemd-analyze verify</c>, the kernel settings against
/// this kernel's /proc/sys.</summary>
public sealed class DeploymentFilesTests
{
    [Fact]
    public async Task The_tested_haproxy_configuration_is_valid_and_a_broken_one_is_refused()
    {
        (int exit, string text) = await Haproxy.CheckAsync(Haproxy.Template());
        Assert.True(exit == 0, text);
        (exit, _) = await Haproxy.CheckAsync(Haproxy.Template().Replace("balance leastconn", "balance leastconnections", StringComparison.Ordinal));
        Assert.NotEqual(0, exit);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("LimitNOFILE=abc", false)]
    [InlineData("TimeoutStopSec=soon", false)]
    public async Task The_systemd_unit_verifies_and_a_broken_one_does_not(string? breakage, bool clean)
    {
        string unit = await File.ReadAllTextAsync(Path.Combine(Haproxy.RepositoryRoot(), "deploy", "wsgw@.service"));

        // The binary is where an install puts it, not here: verify the unit with one that exists.
        unit = unit.Replace("/opt/wsgw/wsgw", "/bin/true", StringComparison.Ordinal);
        if (breakage is not null)
        {
            string key = breakage[..(breakage.IndexOf('=') + 1)];
            int at = unit.IndexOf("\n" + key, StringComparison.Ordinal);
            Assert.True(at >= 0, $"the unit has no {key}");
            int end = unit.IndexOf('\n', at + 1);
            unit = string.Concat(unit.AsSpan(0, at + 1), breakage, unit.AsSpan(end));
        }

        string folder = Directory.CreateTempSubdirectory("wsgw-unit-").FullName;
        try
        {
            string file = Path.Combine(folder, "wsgw@.service");
            await File.WriteAllTextAsync(file, unit);
            using Process verify = Process.Start(new ProcessStartInfo("systemd-analyze", ["verify", file]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            string said = await verify.StandardOutput.ReadToEndAsync() + await verify.StandardError.ReadToEndAsync();
            await verify.WaitForExitAsync();
            Assert.Equal(0, verify.ExitCode);
            Assert.True(clean == (said.Trim().Length == 0), $"systemd-analyze verify said: {said}");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Every_kernel_setting_names_a_setting_of_this_kernel()
    {
        foreach (string line in File.ReadLines(Path.Combine(Haproxy.RepositoryRoot(), "deploy", "sysctl-99-wsgw.conf")))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            string key = line[..line.IndexOf('=')].Trim();
            if (key.StartsWith("net.netfilter.", StringComparison.Ordinal))
            {
                continue; // there only once a firewall has loaded connection tracking
            }

            Assert.True(File.Exists(Path.Combine("/proc/sys", key.Replace('.', '/'))), $"{key} is not a setting of this kernel");
        }
    }
}
