using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using WsGateway.Sbe.Schema;

namespace WsGateway.Cli;

/// <summary>
/// <c>wsgw serve --handler json</c>: decodes every message of every binary frame with the run-time decoder of
/// <c>--schema</c> and writes each as one line of JSON to <see cref="JsonLinesOutput"/>, the way
/// <c>wsgw decode --schema</c> does for bytes on the command line. A frame may hold several messages back to back.
/// </summary>
/// <remarks>
/// One per connection (the gateway's handler factory makes one), so its callbacks never run concurrently; the lines
/// of a frame are written together, under the output's lock, so connections never interleave within a line or a
/// frame. A message that does not decode is reported on the error writer, one line naming the connection, the frame,
/// the message's number and offset and the decoder's reason; the rest of that frame cannot be framed and is skipped.
/// The first such message also closes the connection with 1007 (invalid payload data) and the decoder's reason, so
/// that the client learns its messages are not of this schema (<c>wsgw send</c> prints the close and exits 1); what
/// arrives before the client answers the close is still decoded. A text frame is refused with close 1003, as for
/// trades.
/// </remarks>
internal sealed class JsonLinesHandler : IRawMessageHandler
{
    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly SbeJsonDecoder _decoder;
    private readonly JsonLinesOutput _output;
    private readonly ArrayBufferWriter<byte> _lines = new(4096);
    private readonly Utf8JsonWriter _writer;
    private IGatewayConnection? _connection;
    private long _frames;
    private bool _closing;

    public JsonLinesHandler(SbeJsonDecoder decoder, JsonLinesOutput output)
    {
        _decoder = decoder;
        _output = output;
        _writer = new Utf8JsonWriter(_lines, s_options);
    }

    /// <inheritdoc />
    public void OnConnect(IGatewayConnection connection) => _connection = connection;

    /// <inheritdoc />
    public void OnMessage(ReadOnlySpan<byte> payload, bool isText)
    {
        long frame = ++_frames;
        if (isText)
        {
            _output.Error(Invariant($"{Who()}, frame {frame}: a text frame; expected binary SBE messages, closing with 1003"));
            _connection?.Close(WebSocketCloseCodes.UnsupportedData, "Binary SBE messages only");
            return;
        }

        if (payload.IsEmpty)
        {
            _output.Error(Invariant($"{Who()}, frame {frame}: an empty frame; expected SBE messages"));
            return;
        }

        int offset = 0;
        int index = 0;
        long decoded = 0;
        while (offset < payload.Length)
        {
            index++;
            _writer.Reset(_lines);
            if (!_decoder.TryDecode(payload.Slice(offset), _writer, out int consumed, out string? reason))
            {
                // The sender must learn that what it sends is not what this server decodes (another schema, a bad
                // length): the first such message closes the connection with 1007 and the reason, which wsgw send
                // reports (exit 1). What arrives before the client answers the close is still decoded.
                bool first = !_closing;
                _output.Error(Invariant($"{Who()}, frame {frame}, message {index} at offset {offset}: {reason}{(first ? "; closing with 1007" : string.Empty)}"));
                if (first)
                {
                    _closing = true;
                    _connection?.Close(WebSocketCloseCodes.InvalidPayload, reason);
                }

                break;
            }

            _writer.Flush();
            _lines.Write("\n"u8);
            decoded++;
            offset += consumed;
        }

        _output.Write(_lines.WrittenSpan, decoded);
        _lines.ResetWrittenCount();
    }

    /// <inheritdoc />
    public void OnTrade(ReadOnlySpan<byte> data) => OnMessage(data, isText: false);

    /// <inheritdoc />
    public void OnDisconnect(WebSocketCloseInfo close) => _output.ConnectionClosed(_frames);

    private string Who() => _connection is null
        ? "connection ?"
        : Invariant($"connection {_connection.Id} ({_connection.RemoteEndPoint})");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Where every connection's <see cref="JsonLinesHandler"/> writes: JSON lines to one stream, errors to one
/// writer, each under a lock so that the lines of concurrent connections never interleave. Thread-safe.</summary>
internal sealed class JsonLinesOutput
{
    private readonly Stream _output;
    private readonly TextWriter _error;
    private readonly Lock _outputLock = new();
    private readonly Lock _errorLock = new();
    private long _connections;
    private long _frames;
    private long _messages;
    private long _errors;

    /// <param name="output">The JSON lines (UTF-8); flushed after each frame's lines.</param>
    /// <param name="error">The per-message errors, one line each.</param>
    public JsonLinesOutput(Stream output, TextWriter error)
    {
        _output = output;
        _error = error;
    }

    /// <summary>Connections that have closed.</summary>
    public long Connections => Volatile.Read(ref _connections);

    /// <summary>Frames received on closed connections.</summary>
    public long Frames => Volatile.Read(ref _frames);

    /// <summary>Messages decoded and written.</summary>
    public long Messages => Volatile.Read(ref _messages);

    /// <summary>Messages (or frames) that could not be decoded.</summary>
    public long Errors => Volatile.Read(ref _errors);

    internal void ConnectionClosed(long frames)
    {
        Interlocked.Increment(ref _connections);
        Interlocked.Add(ref _frames, frames);
    }

    /// <summary>Writes one frame's lines at once.</summary>
    internal void Write(ReadOnlySpan<byte> lines, long messages)
    {
        if (lines.IsEmpty)
        {
            return;
        }

        lock (_outputLock)
        {
            _output.Write(lines);
            _output.Flush();
        }

        Interlocked.Add(ref _messages, messages);
    }

    /// <summary>Writes one error line.</summary>
    internal void Error(string line)
    {
        Interlocked.Increment(ref _errors);
        lock (_errorLock)
        {
            _error.WriteLine($"wsgw serve: {line}");
            _error.Flush();
        }
    }

    /// <summary>The closing summary.</summary>
    public string Summary() => string.Create(
        CultureInfo.InvariantCulture,
        $"wsgw: {Connections} connections, {Frames} frames, {Messages} messages written as JSON, {Errors} errors");
}
