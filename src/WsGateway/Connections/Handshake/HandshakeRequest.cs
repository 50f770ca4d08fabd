using System.Text;

namespace WsGateway.Connections.Handshake;

/// <summary>
/// What the connection and authentication hooks need from a validated opening handshake.
/// </summary>
/// <remarks>
/// The well-known values are materialised as strings once. Every other header stays as raw bytes
/// (one copy of the header section) and becomes a string only when <see cref="GetHeader"/> asks for it,
/// so a request with large cookies costs one array, not a string per field.
/// Values are decoded as ISO-8859-1 (each byte to the char with the same code), which is lossless for
/// the obs-text bytes RFC 9110 §5.5 allows; path, query and key are ASCII by validation.
/// Instances are immutable and safe to read from any thread.
/// </remarks>
internal sealed class HandshakeRequest
{
    private readonly byte[] _fieldBytes;
    private readonly HeaderField[] _fields;

    internal HandshakeRequest(
        string path,
        string? queryString,
        string key,
        string? origin,
        string? host,
        IReadOnlyList<string> subProtocols,
        byte[] fieldBytes,
        HeaderField[] fields)
    {
        Path = path;
        QueryString = queryString;
        Key = key;
        Origin = origin;
        Host = host;
        SubProtocols = subProtocols;
        _fieldBytes = fieldBytes;
        _fields = fields;
    }

    /// <summary>The request path as sent (not percent-decoded), always starting with '/'.</summary>
    public string Path { get; }

    /// <summary>The query after '?', without the '?'; <see langword="null"/> when the target has no '?'.</summary>
    public string? QueryString { get; }

    /// <summary>The Sec-WebSocket-Key value, validated as base64 of 16 bytes.</summary>
    public string Key { get; }

    /// <summary>The Origin header (sent by browsers), or <see langword="null"/>.</summary>
    public string? Origin { get; }

    /// <summary>The Host header value (present in every accepted request).</summary>
    public string? Host { get; }

    /// <summary>Sec-WebSocket-Protocol tokens in the client's order of preference; empty when none were offered.</summary>
    public IReadOnlyList<string> SubProtocols { get; }

    /// <summary>Number of header field lines in the request.</summary>
    public int HeaderCount => _fields.Length;

    /// <summary>
    /// Value of the header <paramref name="name"/> (case-insensitive), or <see langword="null"/> when absent.
    /// Several field lines with the same name are combined with ", " in order (RFC 9110 §5.3).
    /// </summary>
    public string? GetHeader(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string? result = null;
        foreach (HeaderField field in _fields)
        {
            if (!Ascii.EqualsIgnoreCase(_fieldBytes.AsSpan(field.NameStart, field.NameLength), name))
            {
                continue;
            }

            string value = Encoding.Latin1.GetString(_fieldBytes, field.ValueStart, field.ValueLength);
            result = result is null ? value : string.Concat(result, ", ", value);
        }

        return result;
    }

    /// <summary>Offsets of one field line inside the copied header section.</summary>
    internal readonly record struct HeaderField(int NameStart, int NameLength, int ValueStart, int ValueLength);
}
