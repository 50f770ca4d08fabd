using Microsoft.Extensions.Logging;

namespace WsGateway.Examples.Runner;

/// <summary>The sink examples' logs (warnings and above: a broker or database that cannot be reached, retries), one
/// line each on the example's output, where its other lines go.</summary>
internal sealed class OutputLoggerProvider(TextWriter output, LogLevel minimum = LogLevel.Warning) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new OutputLogger(output, minimum, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void Dispose()
    {
    }

    private sealed class OutputLogger(TextWriter output, LogLevel minimum, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                output.WriteLine($"{category}: {logLevel}: {formatter(state, exception)}");
            }
        }
    }
}
