namespace WsGateway.Sinks;

/// <summary>A sink's start-up check (<see cref="SinkPipeline.CheckSinkAsync"/>) failed or ran out of time: the
/// sink cannot store trades yet. <see cref="Reason"/> says why in one line (the server's own words where it gave
/// some: <c>28000: role "nosuchuser" does not exist</c>, <c>no answer within 10 s</c>).</summary>
public sealed class SinkNotReadyException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SinkNotReadyException()
        : this("sink", "not ready")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    public SinkNotReadyException(string message)
        : this("sink", message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public SinkNotReadyException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Sink = "sink";
        Reason = message;
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="sink">The sink's name.</param>
    /// <param name="reason">Why it is not ready, one line.</param>
    public SinkNotReadyException(string sink, string reason)
        : base($"{sink} sink is not ready: {reason}")
    {
        Sink = sink;
        Reason = reason;
    }

    /// <summary>The sink's name (<see cref="ITradeSink.Name"/>).</summary>
    public string Sink { get; }

    /// <summary>Why the sink is not ready, one line.</summary>
    public string Reason { get; }
}
