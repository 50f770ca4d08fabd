using System.Buffers.Binary;
using System.Text;
using static WsGateway.Tests.Infrastructure.ClientFrames;

namespace WsGateway.Tests.Conformance;

/// <summary>
/// The conformance table: cases modelled on the Autobahn test suite's sections 1 (framing), 2 (ping/pong),
/// 3 (reserved bits), 4 (opcodes), 5 (fragmentation), 6 (UTF-8), 7 (close) and 9 (large messages), run against
/// the gateway in echo mode. Cases that end normally finish with the client's close 1000, which the server must
/// echo; failing cases expect the server's close code and then the end of the connection.
/// </summary>
public static class AutobahnCases
{
    private static readonly Expect s_normalClose = Expect.Close(1000);

    public static IReadOnlyList<ConformanceCase> All { get; } = Build();

    private static ConformanceCase Ok(string id, string title, byte[][] send, params Expect[] expected)
        => new(id, title, [.. send, CloseFrame(1000)], [.. expected, s_normalClose]);

    private static ConformanceCase Fails(string id, string title, byte[][] send, ushort code, params Expect[] before)
        => new(id, title, send, [.. before, Expect.Close(code)], ServerFails: true);

    private static byte[] Bytes(int length, byte seed = 0xfe)
    {
        byte[] b = new byte[length];
        for (int i = 0; i < b.Length; i++)
        {
            b[i] = (byte)(seed + i);
        }

        return b;
    }

    private static string Ascii(int length) => new('*', length);

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] CloseRaw(byte[] payload) => Frame(Close, payload);

    private static byte[] CloseCode(ushort code)
    {
        byte[] p = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(p, code);
        return p;
    }

    private static List<ConformanceCase> Build()
    {
        List<ConformanceCase> c = [];

        // 1. Framing: text and binary messages at every payload-length encoding boundary.
        int[] lengths = [0, 125, 126, 127, 128, 65535, 65536];
        for (int i = 0; i < lengths.Length; i++)
        {
            int n = lengths[i];
            c.Add(Ok($"1.1.{i + 1}", $"text message of {n} bytes", [TextFrame(Ascii(n))], Expect.Text(Ascii(n))));
            c.Add(Ok($"1.2.{i + 1}", $"binary message of {n} bytes", [BinaryFrame(Bytes(n))], Expect.Binary(Bytes(n))));
        }

        // 2. Ping and pong.
        c.Add(Ok("2.1", "ping without payload", [Frame(Ping, [])], Expect.Pong()));
        c.Add(Ok("2.2", "ping with a small text payload", [Frame(Ping, Utf8("Hello, world!"))], Expect.Pong("Hello, world!")));
        c.Add(Ok("2.3", "ping with a small binary payload", [Frame(Ping, [0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff])], Expect.Pong([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff])));
        c.Add(Ok("2.4", "ping with a 125-byte payload", [Frame(Ping, Bytes(125))], Expect.Pong(Bytes(125))));
        c.Add(Fails("2.5", "ping with a 126-byte payload", [Frame(Ping, Bytes(126))], 1002));
        c.Add(Ok("2.7", "unsolicited pong without payload", [Frame(Pong, [])]));
        c.Add(Ok("2.8", "unsolicited pong with payload", [Frame(Pong, Utf8("unsolicited pong payload"))]));
        c.Add(Ok("2.9", "unsolicited pong, then ping", [Frame(Pong, Utf8("unsolicited pong payload")), Frame(Ping, Utf8("ping payload"))], Expect.Pong("ping payload")));
        c.Add(Ok("2.10", "10 pings", [.. Enumerable.Range(0, 10).Select(i => Frame(Ping, Utf8($"payload-{i}")))], [.. Enumerable.Range(0, 10).Select(i => Expect.Pong($"payload-{i}"))]));

        // 3. Reserved bits (no extension was negotiated).
        c.Add(Fails("3.1", "text with RSV1", [Frame(Text, Utf8("Hello, world!"), rsv: 1)], 1002));
        c.Add(Fails("3.2", "text, then text with RSV2, then ping", [TextFrame("Hello, world!"), Frame(Text, Utf8("Hello, world!"), rsv: 2), Frame(Ping, Utf8("Hello, world!"))], 1002, Expect.Text("Hello, world!")));
        c.Add(Fails("3.3", "text, then text with RSV3, then ping", [TextFrame("Hello, world!"), Frame(Text, Utf8("Hello, world!"), rsv: 3), Frame(Ping, Utf8("Hello, world!"))], 1002, Expect.Text("Hello, world!")));
        c.Add(Fails("3.4", "text, then text with RSV1|RSV2|RSV3... (4), then ping", [TextFrame("Hello, world!"), Frame(Text, Utf8("Hello, world!"), rsv: 4), Frame(Ping, Utf8("Hello, world!"))], 1002, Expect.Text("Hello, world!")));
        c.Add(Fails("3.5", "binary with RSV 5", [Frame(Binary, Bytes(8), rsv: 5)], 1002));
        c.Add(Fails("3.6", "ping with RSV 6", [Frame(Ping, Utf8("Hello, world!"), rsv: 6)], 1002));
        c.Add(Fails("3.7", "close with RSV 7", [Frame(Close, CloseCode(1000), rsv: 7)], 1002));

        // 4. Reserved opcodes.
        byte[] reserved = [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF];
        for (int i = 0; i < reserved.Length; i++)
        {
            byte op = reserved[i];
            string id = op < 8 ? $"4.1.{op - 2}" : $"4.2.{op - 0xA}";
            c.Add(Fails(id, $"reserved opcode {op}, after a valid message", [TextFrame("Hello, world!"), Frame(op, Utf8("reserved")), Frame(Ping, Utf8("Hello, world!"))], 1002, Expect.Text("Hello, world!")));
        }

        // 5. Fragmentation.
        c.Add(Fails("5.1", "ping in 2 fragments", [Frame(Ping, Utf8("fragment1"), fin: false), Frame(Continuation, Utf8("fragment2"))], 1002));
        c.Add(Fails("5.2", "pong in 2 fragments", [Frame(Pong, Utf8("fragment1"), fin: false), Frame(Continuation, Utf8("fragment2"))], 1002));
        c.Add(Ok("5.3", "text in 2 fragments", [TextFrame("fragment1", fin: false), Frame(Continuation, Utf8("fragment2"))], Expect.Text("fragment1fragment2")));
        c.Add(Ok("5.6", "text in 2 fragments, ping in between", [TextFrame("fragment1", fin: false), Frame(Ping, Utf8("pongme!")), Frame(Continuation, Utf8("fragment2"))], Expect.Pong("pongme!"), Expect.Text("fragment1fragment2")));
        c.Add(Ok("5.9.b", "binary in 3 fragments, empty middle", [Frame(Binary, Bytes(10), fin: false), Frame(Continuation, [], fin: false), Frame(Continuation, Bytes(5, 10))], Expect.Binary([.. Bytes(10), .. Bytes(5, 10)])));
        c.Add(Fails("5.9", "continuation (FIN) without a message", [Frame(Continuation, Utf8("non-continuation payload")), TextFrame("Hello, world!")], 1002));
        c.Add(Fails("5.10", "continuation (no FIN) without a message", [Frame(Continuation, Utf8("non-continuation payload"), fin: false), TextFrame("Hello, world!")], 1002));
        c.Add(Fails("5.15", "text in 2 fragments, then continuation without a message", [TextFrame("fragment1", fin: false), Frame(Continuation, Utf8("fragment2")), Frame(Continuation, Utf8("fragment3"), fin: false), TextFrame("fragment4")], 1002, Expect.Text("fragment1fragment2")));
        c.Add(Fails("5.17", "text start, then a new text frame inside the message", [TextFrame("fragment1", fin: false), TextFrame("fragment2")], 1002));
        c.Add(Fails("5.18", "text start, then a new binary frame inside the message", [TextFrame("fragment1", fin: false), BinaryFrame(Bytes(4))], 1002));
        c.Add(Ok("5.19", "text in 5 fragments with pings between", [TextFrame("f1", fin: false), Frame(Continuation, Utf8("f2"), fin: false), Frame(Ping, Utf8("p1")), Frame(Continuation, Utf8("f3"), fin: false), Frame(Ping, Utf8("p2")), Frame(Continuation, Utf8("f4"), fin: false), Frame(Continuation, Utf8("f5"))], Expect.Pong("p1"), Expect.Pong("p2"), Expect.Text("f1f2f3f4f5")));

        // 6. UTF-8 in text messages.
        c.Add(Ok("6.1.1", "empty text", [TextFrame("")], Expect.Text("")));
        c.Add(Ok("6.1.2", "empty text in 3 empty fragments", [TextFrame("", fin: false), Frame(Continuation, [], fin: false), Frame(Continuation, [])], Expect.Text("")));
        byte[] hello = Utf8("\u03ba\u1f79\u03c3\u03bc\u03b5"); // κόσμε
        c.Add(Ok("6.2.1", "valid UTF-8 in one frame", [Frame(Text, hello)], Expect.Text(hello)));
        c.Add(Ok("6.2.3", "valid UTF-8 split at every byte into fragments", [.. Fragments(Text, hello, 1)], Expect.Text(hello)));
        byte[] astral = Utf8("\U0001F600 and \u20AC");
        c.Add(Ok("6.2.4", "4-byte sequence split across fragments", [.. Fragments(Text, astral, 3)], Expect.Text(astral)));
        c.Add(Fails("6.3.1", "invalid UTF-8 in one frame", [Frame(Text, [0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64])], 1007));
        c.Add(Fails("6.4.1", "invalid UTF-8 fails on its fragment, before the message ends", [TextFrame("valid", fin: false), Frame(Continuation, [0xf4, 0x90, 0x80, 0x80], fin: false), Frame(Ping, Utf8("late"))], 1007));
        c.Add(Fails("6.6.x", "truncated sequence at the end of the message", [Frame(Text, [0x61, 0xe2, 0x82])], 1007));
        c.Add(Fails("6.20.1", "UTF-16 surrogate (ED A0 80)", [Frame(Text, [0xed, 0xa0, 0x80])], 1007));
        c.Add(Fails("6.5.x", "overlong encoding (C0 80)", [Frame(Text, [0xc0, 0x80])], 1007));

        // 7. Close.
        c.Add(new ConformanceCase("7.1.1", "text, then close", [TextFrame("Hello World!"), CloseFrame(1000)], [Expect.Text("Hello World!"), s_normalClose]));
        c.Add(new ConformanceCase("7.1.2", "close twice: one answer", [CloseFrame(1000), CloseFrame(1000)], [s_normalClose]));
        c.Add(new ConformanceCase("7.1.3", "ping after close: no pong", [CloseFrame(1000), Frame(Ping, Utf8("Hello World!"))], [s_normalClose]));
        c.Add(new ConformanceCase("7.1.4", "text after close: no echo", [CloseFrame(1000), TextFrame("Hello World!")], [s_normalClose]));
        c.Add(new ConformanceCase("7.3.1", "close with no payload", [CloseRaw([])], [s_normalClose]));
        c.Add(Fails("7.3.2", "close with a 1-byte payload", [CloseRaw([0x2a])], 1002));
        c.Add(new ConformanceCase("7.3.3", "close 1000 without reason", [CloseFrame(1000)], [s_normalClose]));
        c.Add(new ConformanceCase("7.3.4", "close 1000 with a reason", [CloseFrame(1000, "Hello World!")], [s_normalClose]));
        c.Add(new ConformanceCase("7.3.5", "close 1000 with a 123-byte reason", [CloseFrame(1000, Ascii(123))], [s_normalClose]));
        c.Add(Fails("7.3.6", "close with a 124-byte reason (payload 126)", [CloseFrame(1000, Ascii(124))], 1002));
        c.Add(Fails("7.5.1", "close reason that is not UTF-8", [CloseRaw([0x03, 0xe8, 0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64])], 1007));
        ushort[] valid = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
        for (int i = 0; i < valid.Length; i++)
        {
            c.Add(new ConformanceCase($"7.7.{i + 1}", $"close {valid[i]} is echoed", [CloseFrame(valid[i])], [Expect.Close(valid[i])]));
        }

        ushort[] invalid = [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 5000, 65535];
        for (int i = 0; i < invalid.Length; i++)
        {
            c.Add(Fails($"7.9.{i + 1}", $"close {invalid[i]} is refused", [CloseFrame(invalid[i])], 1002));
        }

        // 9. Large messages, up to the 1 MiB default limit.
        c.Add(Ok("9.1.3", "1 MiB text message in one frame", [TextFrame(Ascii(1 << 20))], Expect.Text(Ascii(1 << 20))) with { MaxChunked = 0 });
        c.Add(Ok("9.4.x", "1 MiB binary message in 64 fragments of 16 KiB", [.. Fragments(Binary, Bytes(1 << 20), 16 * 1024)], Expect.Binary(Bytes(1 << 20))) with { MaxChunked = 0 });
        c.Add(Fails("9.x.limit", "message one byte over the 1 MiB limit", [BinaryFrame(Bytes((1 << 20) + 1))], 1009) with { MaxChunked = 0 });
        c.Add(Fails("9.x.limit-fragments", "fragments adding up to more than 1 MiB", [.. Fragments(Binary, Bytes((1 << 20) + 100), 1 << 19)], 1009) with { MaxChunked = 0 });
        return c;
    }

    private static IEnumerable<byte[]> Fragments(byte opcode, byte[] payload, int size)
    {
        for (int offset = 0; offset < payload.Length; offset += size)
        {
            int n = Math.Min(size, payload.Length - offset);
            yield return Frame(offset == 0 ? opcode : Continuation, payload.AsSpan(offset, n), fin: offset + n >= payload.Length);
        }
    }
}
