using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace WsGateway.LoadBench;

/// <summary>CPU lists as <c>taskset -c</c> writes them (<c>0</c>, <c>0,2</c>, <c>1-3</c>) and the affinity masks of
/// <see cref="Process.ProcessorAffinity"/>: how <c>--server-cpus</c> and <c>--client-cpus</c> are checked, and how
/// a process reports where it may run.</summary>
internal static class CpuAffinity
{
    /// <summary>Parses a CPU list into a mask; returns false with a message naming what was wrong when the list is
    /// malformed or names a CPU this machine does not have.</summary>
    public static bool TryParse(string list, int processorCount, out long mask, out string? error)
    {
        mask = 0;
        error = null;
        int cpus = Math.Min(processorCount, 64);
        foreach (string part in list.Split(','))
        {
            string[] range = part.Trim().Split('-');
            if (range.Length > 2
                || !int.TryParse(range[0], NumberStyles.None, CultureInfo.InvariantCulture, out int first)
                || !int.TryParse(range[^1], NumberStyles.None, CultureInfo.InvariantCulture, out int last)
                || last < first)
            {
                error = $"'{list}' is not a CPU list: expected CPU numbers and ranges separated by commas, e.g. 0 or 0,2 or 1-3";
                return false;
            }

            if (last >= cpus)
            {
                error = $"'{list}' names CPU {last}, but this machine has CPUs 0-{cpus - 1}";
                return false;
            }

            for (int cpu = first; cpu <= last; cpu++)
            {
                mask |= 1L << cpu;
            }
        }

        return true;
    }

    /// <summary>A mask as a CPU list (<c>0-1</c>, <c>0,2</c>).</summary>
    public static string Format(long mask)
    {
        var text = new StringBuilder();
        for (int cpu = 0; cpu < 64; cpu++)
        {
            if ((mask & (1L << cpu)) == 0)
            {
                continue;
            }

            int last = cpu;
            while (last < 63 && (mask & (1L << (last + 1))) != 0)
            {
                last++;
            }

            text.Append(text.Length == 0 ? string.Empty : ",").Append(cpu.ToString(CultureInfo.InvariantCulture));
            if (last > cpu)
            {
                text.Append('-').Append(last.ToString(CultureInfo.InvariantCulture));
            }

            cpu = last;
        }

        return text.ToString();
    }

    /// <summary>The CPUs this process may run on, as a list ("?" where the platform does not say).</summary>
    public static string Current()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsWindows())
        {
            return "?";
        }

        using Process self = Process.GetCurrentProcess();
        return Format(self.ProcessorAffinity);
    }

    /// <summary>Pins this process (the load generator) to the CPUs of <paramref name="mask"/>. On Linux this sets the
    /// main thread's affinity, which every thread started after it inherits (the load threads and the thread pool's
    /// workers); a few runtime threads started before it keep theirs.</summary>
    public static void PinCurrentProcess(long mask)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
        {
            using Process self = Process.GetCurrentProcess();
            self.ProcessorAffinity = (nint)mask;
        }
        else
        {
            throw new PlatformNotSupportedException("--client-cpus needs Linux or Windows (Process.ProcessorAffinity)");
        }
    }

    /// <summary>Where <c>taskset</c> is on PATH, or null.</summary>
    public static string? FindTaskset()
    {
        foreach (string folder in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(folder, "taskset");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
