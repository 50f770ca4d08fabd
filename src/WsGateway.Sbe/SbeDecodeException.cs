namespace WsGateway.Sbe;

/// <summary>
/// Thrown by the throwing decode methods (<see cref="Trade.Decode"/>, <see cref="Trade.DecodeFromBuffer"/>,
/// <see cref="TradeBatchReader.MoveNext"/>, <see cref="TradeDecoder.WrapAndApplyHeader"/>) when a message is malformed.
/// Exception-free callers use <see cref="Trade.TryDecode(ReadOnlySpan{byte}, out Trade, out int, out SbeDecodeError)"/> instead.
/// </summary>
public sealed class SbeDecodeException : Exception
{
    /// <summary>Creates an exception whose message is the error's text.</summary>
    /// <param name="error">The decode failure.</param>
    public SbeDecodeException(SbeDecodeError error)
        : base(error.ToString())
    {
        Error = error;
    }

    /// <summary>Creates an exception with no specific status (<see cref="SbeDecodeStatus.None"/>).</summary>
    public SbeDecodeException()
    {
    }

    /// <summary>Creates an exception with no specific status (<see cref="SbeDecodeStatus.None"/>).</summary>
    /// <param name="message">The message text.</param>
    public SbeDecodeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with no specific status (<see cref="SbeDecodeStatus.None"/>).</summary>
    /// <param name="message">The message text.</param>
    /// <param name="innerException">The cause.</param>
    public SbeDecodeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The decode failure as a value.</summary>
    public SbeDecodeError Error { get; }

    /// <summary>What went wrong.</summary>
    public SbeDecodeStatus Status => Error.Status;

    /// <summary>The expected value (see <see cref="SbeDecodeError.Expected"/>).</summary>
    public int Expected => Error.Expected;

    /// <summary>The value that arrived (see <see cref="SbeDecodeError.Actual"/>).</summary>
    public int Actual => Error.Actual;
}
