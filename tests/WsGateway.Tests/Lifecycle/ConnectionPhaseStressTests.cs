using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using WsGateway.Tests.Security;
using static WsGateway.Tests.Infrastructure.ClientFrames;

namespace WsGateway.Tests.Lifecycle;

/// <summary>
/// The connection's phases under a crowd of clients that each leave at a different point: before sending anything,
/// in the middle of the upgrade request (a reset), with the request in pieces, after their trades with a close or a
/// reset. On the native transport the handshake runs at the socket's first news and the open session is driven by
/// the loop; either way every connection must end with its admission lease and its place among the handshakes in
/// progress given back, and every trade of a client that closed properly must be delivered once, in order, to its
/// own connection. Rounds: <c>WSGW_STRESS_ROUNDS</c> (default 3).
/// </summary>
public sealed class ConnectionPhaseStressTests
{
    private const int Clients = 200;
    private const int TradesPerClient = 50;

    public static TheoryData<int> Rounds()
    {
        var data = new TheoryData<int>();
        int rounds = int.TryParse(Environment.GetEnvironmentVariable("WSGW_STRESS_ROUNDS"), out int r) && r > 0 ? r : 3;
        for (int round = 1; round <= rounds; round++)
        {
            data.Add(round);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Rounds))]
    public async Task Clients_leaving_at_every_phase_give_every_slot_back_and_lose_or_repeat_no_trade(int round)
    {
        var received = new ConcurrentDictionary<ulong, ConcurrentQueue<ulong>>();
        var options = new TradeGatewayOptions { EventLoops = 2, HandshakeTimeout = TimeSpan.FromSeconds(5) };
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new ByClient(received), options).Start();
        IPEndPoint endPoint = server.LocalEndPoint!;

        var runs = new Task<bool>[Clients];
        for (int i = 0; i < Clients; i++)
        {
            runs[i] = RunClientAsync(endPoint, (ulong)i + 1, (Kind)(i % 5));
        }

        bool[] completed = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(60));

        await SecurityTestKit.WaitUntil(() => server.ConnectionCount == 0 && server.PendingHandshakes == 0 && server.TrackedConnections == 0, 15_000);
        Assert.True(server.ConnectionCount == 0, $"round {round}: {server.ConnectionCount} admission leases still held");
        Assert.True(server.PendingHandshakes == 0, $"round {round}: {server.PendingHandshakes} handshakes still counted in progress");
        Assert.True(server.TrackedConnections == 0, $"round {round}: {server.TrackedConnections} connections still tracked");

        for (int i = 0; i < Clients; i++)
        {
            ulong client = (ulong)i + 1;
            var kind = (Kind)(i % 5);
            ulong[] ids = received.TryGetValue(client, out ConcurrentQueue<ulong>? queue) ? queue.ToArray() : [];
            ulong[] expected = Enumerable.Range(0, TradesPerClient).Select(n => (client * 1000) + (ulong)n).ToArray();
            switch (kind)
            {
                case Kind.Normal or Kind.RequestInPieces:
                    Assert.True(completed[i], $"round {round}: client {client} ({kind}) did not complete its close handshake");
                    Assert.Equal(expected, ids);
                    break;
                case Kind.TradesThenReset:
                    // A reset may drop what the kernel had not delivered yet: a prefix, never a repeat or a stranger.
                    Assert.Equal(expected.Take(ids.Length), ids);
                    break;
                default:
                    Assert.Empty(ids);
                    break;
            }
        }
    }

    private enum Kind
    {
        Normal,
        RequestInPieces,
        NothingThenClose,
        HalfRequestThenReset,
        TradesThenReset,
    }

    private static async Task<bool> RunClientAsync(IPEndPoint server, ulong client, Kind kind)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server);
        byte[] request = Encoding.ASCII.GetBytes($"GET /trades HTTP/1.1\r\nHost: {server}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        switch (kind)
        {
            case Kind.NothingThenClose:
                await Task.Delay(Random.Shared.Next(0, 50));
                socket.Shutdown(SocketShutdown.Send);
                return await ReadToEndAsync(socket, expectClose: false);
            case Kind.HalfRequestThenReset:
                await socket.SendAsync(request.AsMemory(0, request.Length / 2));
                await Task.Delay(Random.Shared.Next(0, 50));
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
                return true;
            case Kind.RequestInPieces:
                for (int offset = 0; offset < request.Length; offset += 40)
                {
                    await socket.SendAsync(request.AsMemory(offset, Math.Min(40, request.Length - offset)));
                    await Task.Delay(2);
                }

                break;
            default:
                await socket.SendAsync(request);
                break;
        }

        var frames = new List<byte[]>();
        for (int n = 0; n < TradesPerClient; n++)
        {
            frames.Add(BinaryFrame(Trade((client * 1000) + (ulong)n)));
        }

        // In two writes, so that a read may end in the middle of a frame.
        byte[] all = Concat([.. frames]);
        await socket.SendAsync(all.AsMemory(0, all.Length / 2 + 3));
        await socket.SendAsync(all.AsMemory(all.Length / 2 + 3));
        if (kind == Kind.TradesThenReset)
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
            return true;
        }

        await socket.SendAsync(CloseFrame(1000));
        return await ReadToEndAsync(socket, expectClose: true);
    }

    /// <summary>Reads until the server closes; true when a close frame (opcode 8) came before the end.</summary>
    private static async Task<bool> ReadToEndAsync(Socket socket, bool expectClose)
    {
        var bytes = new List<byte>();
        byte[] buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (n == 0)
                {
                    break;
                }

                bytes.AddRange(buffer.AsSpan(0, n));
            }
        }
        catch (SocketException)
        {
            return false;
        }

        if (!expectClose)
        {
            return true;
        }

        byte[] data = bytes.ToArray();
        int end = IndexOf(data, "\r\n\r\n"u8);
        return end >= 0 && data.Length > end + 4 && (data[end + 4] & 0x0F) == 0x8;
    }

    private static int IndexOf(ReadOnlySpan<byte> data, ReadOnlySpan<byte> value) => data.IndexOf(value);

    /// <summary>Records each trade id under the client its connection's first trade named (ids are client × 1000 +
    /// n), and fails the run if a connection ever sees another client's trade.</summary>
    private sealed class ByClient(ConcurrentDictionary<ulong, ConcurrentQueue<ulong>> received) : ITradeMessageHandler
    {
        private ulong _client;

        public void OnTrade(ReadOnlySpan<byte> data)
        {
            ulong id = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(8));
            ulong client = id / 1000;
            if (_client == 0)
            {
                _client = client;
            }

            ulong recorded = _client == client ? client : ulong.MaxValue; // a stranger's trade fails the comparison
            received.GetOrAdd(recorded, static _ => new ConcurrentQueue<ulong>()).Enqueue(id);
        }
    }
}
