using System.Text;
using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Conformance;

/// <summary>What the server is expected to send, in order.</summary>
public sealed record Expect(byte Opcode, byte[]? Payload, ushort? CloseCode = null)
{
    public static Expect Text(string text) => new(ClientFrames.Text, Encoding.UTF8.GetBytes(text));

    public static Expect Text(byte[] utf8) => new(ClientFrames.Text, utf8);

    public static Expect Binary(byte[] payload) => new(ClientFrames.Binary, payload);

    public static Expect Pong(byte[] payload) => new(ClientFrames.Pong, payload);

    public static Expect Pong(string payload = "") => Pong(Encoding.UTF8.GetBytes(payload));

    public static Expect Close(ushort code) => new(ClientFrames.Close, null, code);

    public bool Matches(ServerFrame frame)
        => frame.Fin && frame.Rsv == 0 && !frame.Masked && frame.Opcode == Opcode
            && (Payload is null || frame.Payload.AsSpan().SequenceEqual(Payload))
            && (CloseCode is null || frame.CloseCode == CloseCode);

    public override string ToString() => Opcode == ClientFrames.Close ? $"Close({CloseCode})" : $"Frame(op={Opcode}, {Payload?.Length} bytes)";
}

/// <summary>
/// One conformance case, in the manner of the Autobahn test suite: what the client sends, and every frame the server
/// must send back before it closes the TCP connection.
/// </summary>
/// <param name="Id">The Autobahn case number it follows (for example 5.15), or a gateway-specific id.</param>
/// <param name="Title">What is being tested.</param>
/// <param name="Send">The frames (or raw bytes) the client sends, in order.</param>
/// <param name="Expected">The frames the server must send, in order, before closing.</param>
/// <param name="MaxChunked">Largest total size for which the byte-by-byte variant runs.</param>
/// <param name="ServerFails">The server must fail the connection (and report why to <c>OnError</c>).</param>
public sealed record ConformanceCase(string Id, string Title, byte[][] Send, Expect[] Expected, int MaxChunked = 70_000, bool ServerFails = false)
{
    public override string ToString() => $"{Id} {Title}";
}
