using System.Text;

namespace WsGateway.Examples.Tests.Infrastructure;

/// <summary>A writer that keeps what is written as lines, for tests to read and wait on. Pass
/// <see cref="TextWriter.Synchronized"/> of it to code that writes from several threads, so whole lines stay whole.</summary>
public sealed class LineWriter : TextWriter
{
    private readonly Lock _lock = new();
    private readonly List<string> _lines = [];
    private readonly StringBuilder _current = new();

    public override Encoding Encoding => Encoding.UTF8;

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lock)
            {
                return [.. _lines];
            }
        }
    }

    public override void Write(char value)
    {
        lock (_lock)
        {
            if (value == '\n')
            {
                _lines.Add(_current.ToString().TrimEnd('\r'));
                _current.Clear();
            }
            else
            {
                _current.Append(value);
            }
        }
    }

    /// <summary>Waits until a line matching <paramref name="match"/> was written and returns it.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            if (Lines.FirstOrDefault(match) is { } line)
            {
                return line;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No matching line within the timeout; written so far:\n{string.Join('\n', Lines)}");
            }

            await Task.Delay(10);
        }
    }
}
