using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using WsGateway.Framing;
using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Fuzz;

/// <summary>
/// Property-based fuzzing of the connection loop over in-memory pipes: valid streams cut at random places, and
/// streams with flipped bits, truncations, wrong lengths, random opcodes, RSV and mask bits. Bounded by MaxTest and a
/// per-case deadline; a failure prints the case and FsCheck's replay seed.
/// </summary>
public sealed class FrameFuzzTests
{
    internal static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    private static readonly ushort[] s_failureCodes = [CloseStatus.ProtocolError, CloseStatus.UnsupportedData, CloseStatus.InvalidPayload, CloseStatus.MessageTooBig];

    private static TradeGatewayOptions Options() => new() { KeepAliveInterval = TimeSpan.Zero, MaxMessageSize = 64 * 1024 };

    [Property(MaxTest = 150, EndSize = 30)]
    public Property Valid_streams_cut_anywhere_deliver_every_trade_exactly_once_in_order()
        => Prop.ForAll(FuzzInputs.ValidStreams, c => RunCase(() => ValidCaseAsync(c)));

    [Property(MaxTest = 300, EndSize = 12)]
    public Property Mutated_streams_end_with_a_documented_close_or_an_error_and_one_OnDisconnect()
        => Prop.ForAll(FuzzInputs.MutatedStreams, c => RunCase(() => MutatedCaseAsync(c)));

    /// <summary>Runs an async case off the test's synchronization context, within the deadline.</summary>
    internal static void RunCase(Func<Task> body)
    {
        Task run = Task.Run(body);
        if (!run.Wait(Deadline * 3))
        {
            throw new TimeoutException($"The case did not complete within {Deadline * 3}");
        }

        run.GetAwaiter().GetResult();
    }

    private static async Task ValidCaseAsync(StreamCase c)
    {
        (byte[] bytes, _, List<ulong> ids, int undecodable) = FuzzInputs.Build(c);
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Open(handler, Options());

        Task sending = connection.SendAsync(bytes, c.Chunk);
        List<ServerFrame> frames = await connection.ReadAllFramesAsync(sending);
        await connection.Running.WaitAsync(Deadline);

        Assert.True(connection.Running.IsCompletedSuccessfully);
        Assert.Equal(ids, handler.Trades.Select(t => BitConverter.ToUInt64(t, 8)));
        Assert.All(handler.Errors, e => Assert.Equal(WsErrorKind.Decode, e.Kind));
        Assert.Equal(undecodable, handler.Errors.Count);
        Assert.Equal((ushort)1000, Assert.Single(frames, f => f.Opcode == ClientFrames.Close).CloseCode);
        Assert.Equal(1, handler.Connects);
        Assert.Equal(1, handler.Disconnects);
        Assert.Equal(1000, (await handler.Disconnected).Code);
    }

    private static async Task MutatedCaseAsync(StreamCase c)
    {
        (byte[] bytes, _, _, _) = FuzzInputs.Build(c);
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Open(handler, Options());

        await connection.SendAsync(bytes, c.Chunk);
        await connection.CompleteClientAsync();
        List<ServerFrame> frames = await connection.ReadAllFramesAsync();
        await connection.Running.WaitAsync(Deadline);

        Assert.True(connection.Running.IsCompletedSuccessfully);
        Assert.Equal(1, handler.Connects);
        Assert.Equal(1, handler.Disconnects);
        WebSocketCloseInfo info = await handler.Disconnected;
        Assert.InRange(info.Code, 1000, 4999);
        Assert.DoesNotContain(handler.Errors, e => e.Kind == WsErrorKind.Handler);

        List<ServerFrame> closes = frames.Where(f => f.Opcode == ClientFrames.Close).ToList();
        Assert.True(closes.Count <= 1, $"{closes.Count} close frames sent");
        Assert.True(frames.All(f => f.Fin && f.Rsv == 0 && !f.Masked), "The server sent a malformed frame");
        if (closes.Count == 1 && closes[0].CloseCode is { } code)
        {
            Assert.True(CloseStatus.IsValidReceivedCode(code), $"Close code {code} is not valid on the wire");
            // A failure code is the server's own only when it started the close: a client whose mutated close frame
            // carries 1002 gets 1002 echoed back (RFC 6455 section 5.5.1), with no error on the server's side.
            if (s_failureCodes.Contains(code) && !info.InitiatedByClient)
            {
                Assert.Contains(handler.Errors, e => e.CloseCode == code);
            }
        }

        foreach (WsError error in handler.Errors.Where(e => e.CloseCode is not null))
        {
            Assert.Contains(error.CloseCode!.Value, s_failureCodes);
            Assert.Equal(error.CloseCode, closes.SingleOrDefault()?.CloseCode);
        }
    }
}
