using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Fuzz;

/// <summary>Fuzzing of the standalone handshake parser (random and mutated upgrade requests) and of the SBE
/// processing (random and mutated payloads in valid frames), over in-memory pipes.</summary>
public sealed partial class HandshakeAndPayloadFuzzTests
{
    private static readonly string[] s_requestLines =
    [
        "Host: 127.0.0.1:9001",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        "Origin: https://example.com",
        "Sec-WebSocket-Protocol: sbe, json",
    ];

    private static byte[] Request(IEnumerable<string> lines, string requestLine = "GET /trades HTTP/1.1")
        => Encoding.ASCII.GetBytes(requestLine + "\r\n" + string.Concat(lines.Select(l => l + "\r\n")) + "\r\n");

    private static Arbitrary<byte[]> Handshakes()
    {
        Gen<byte[]> mutated =
            from mutations in Gen.NonEmptyListOf(FuzzInputs.MutationGen)
            select mutations.Take(4).Aggregate(Request(s_requestLines), (bytes, m) => Mutate(bytes, m));
        Gen<byte[]> reordered =
            from lines in Gen.SubListOf(s_requestLines.Concat(s_requestLines.Take(4)))
            from shuffled in Gen.Shuffle(lines.ToArray())
            from requestLine in Gen.Elements("GET /trades HTTP/1.1", "POST /trades HTTP/1.1", "GET /trades HTTP/1.0", "GET trades HTTP/1.1", "GET /trades?x=1 HTTP/1.1", "GET http://h/trades HTTP/1.1", "G\u00c9T / HTTP/1.1")
            select Request(shuffled, requestLine);
        Gen<byte[]> garbage = Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b));
        Gen<byte[]> oversized =
            from size in Gen.Choose(0, 20_000)
            select Request(s_requestLines.Append("X-Pad: " + new string('a', size)));
        return Gen.OneOf(mutated, reordered, garbage, oversized).ToArbitrary();
    }

    private static byte[] Mutate(byte[] bytes, Mutation m)
    {
        if (bytes.Length == 0)
        {
            return bytes;
        }

        int pos = m.Where % bytes.Length;
        return (m.Value % 4) switch
        {
            0 => bytes[..pos],
            1 => [.. bytes[..pos], .. bytes[Math.Min(bytes.Length, pos + 1 + (m.Value % 12))..]],
            2 => [.. bytes[..pos], (byte)(m.Value >> 8), .. bytes[pos..]],
            _ => bytes.Select((b, i) => i == pos ? (byte)(b ^ (1 << (m.Value % 8))) : b).ToArray(),
        };
    }

    [GeneratedRegex(@"^HTTP/1\.1 (101|4\d\d) ")]
    private static partial Regex StatusLine();

    [Property(MaxTest = 300)]
    public Property Any_handshake_gets_101_or_a_4xx_or_a_close_and_never_crashes()
        => Prop.ForAll(Handshakes(), bytes => FrameFuzzTests.RunCase(async () =>
        {
            var handler = new RecordingHandler();
            await using var connection = InMemoryConnection.Raw(handler, new TradeGatewayOptions { KeepAliveInterval = TimeSpan.Zero });

            await connection.SendAsync(bytes);
            await connection.CompleteClientAsync();
            string response = await connection.ReadHttpResponseAsync();
            await connection.Running.WaitAsync(FrameFuzzTests.Deadline);

            Assert.True(connection.Running.IsCompletedSuccessfully);
            Assert.True(response.Length == 0 || StatusLine().IsMatch(response), $"Unexpected answer: {response[..Math.Min(80, response.Length)]}");
            if (response.StartsWith("HTTP/1.1 101 ", StringComparison.Ordinal))
            {
                Assert.Equal(1, handler.Connects);
                Assert.Equal(1, handler.Disconnects);
            }
            else
            {
                Assert.Equal(0, handler.Connects);
                Assert.Equal(0, handler.Disconnects);
            }

            Assert.Equal(0, connection.Manager.OpenWebSockets);
        }));

    private static Arbitrary<byte[][]> Payloads()
    {
        Gen<byte[]> random = Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b));
        Gen<byte[]> mutatedTrades =
            from count in Gen.Choose(1, 6)
            from field in Gen.Elements(0, 2, 4, 6, -1, -2)
            from value in Gen.Choose(0, ushort.MaxValue)
            select MutateTrades(ClientFrames.Trades(0, count), field, (ushort)value);
        Gen<byte[]> valid = Gen.Choose(1, 5).Select(n => ClientFrames.Trades(0, n));
        return Gen.ArrayOf(Gen.OneOf(random, mutatedTrades, valid)).Select(a => a.Take(20).ToArray()).ToArbitrary();
    }

    /// <summary>Overwrites a header field (blockLength, templateId, schemaId, version), or truncates (-1) or extends
    /// (-2) the message by a few bytes.</summary>
    private static byte[] MutateTrades(byte[] trades, int field, ushort value)
    {
        if (field == -1)
        {
            return trades[..Math.Max(0, trades.Length - 1 - (value % 28))];
        }

        if (field == -2)
        {
            return [.. trades, .. new byte[1 + (value % 28)]];
        }

        BinaryPrimitives.WriteUInt16LittleEndian(trades.AsSpan(field), value);
        return trades;
    }

    [Property(MaxTest = 200)]
    public Property Random_SBE_payloads_in_valid_frames_give_OnTrade_or_a_decode_error_and_never_an_exception()
        => Prop.ForAll(Payloads(), payloads => FrameFuzzTests.RunCase(async () =>
        {
            var handler = new RecordingHandler();
            await using var connection = InMemoryConnection.Open(handler, new TradeGatewayOptions { KeepAliveInterval = TimeSpan.Zero });

            await connection.SendAsync(ClientFrames.Concat([.. payloads.Select(p => ClientFrames.BinaryFrame(p)), ClientFrames.CloseFrame(1000)]));
            List<ServerFrame> frames = await connection.ReadAllFramesAsync();
            await connection.Running.WaitAsync(FrameFuzzTests.Deadline);

            Assert.True(connection.Running.IsCompletedSuccessfully);
            Assert.Equal((ushort)1000, Assert.Single(frames).CloseCode);
            Assert.All(handler.Errors, e => Assert.Equal(WsErrorKind.Decode, e.Kind));
            int batchTrades = handler.Batches.Sum(b => b.Data.Length / b.MessageSize);
            int delivered = handler.Trades.Count - batchTrades + handler.Batches.Count;
            Assert.Equal(payloads.Length, delivered + handler.Errors.Count);
            Assert.Equal(1, handler.Disconnects);
        }));
}
