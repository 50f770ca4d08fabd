using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using WsGateway.Tests.Conformance;
using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Hosting;

/// <summary>A representative set of the conformance table (a case from every section, failing and passing), over
/// real loopback sockets against both hosting modes: the standalone Kestrel connection handler and
/// <c>MapTradeGateway</c> in an ASP.NET Core application.</summary>
public sealed class SocketConformanceTests : IAsyncLifetime
{
    private static readonly string[] s_representative =
    [
        "1.1.3", "1.2.7", "2.2", "2.5", "2.10", "3.1", "3.4", "4.1.1", "4.2.5", "5.6", "5.17", "5.19",
        "6.2.3", "6.3.1", "6.4.1", "7.1.1", "7.3.1", "7.3.2", "7.5.1", "7.7.13", "7.9.5", "9.4.x", "9.x.limit",
    ];

    private readonly ConcurrentQueue<RecordingEchoHandler> _handlers = new();
    private WebSocketServer? _standalone;
    private WebApplication? _app;
    private IPEndPoint? _aspNetEndPoint;

    public static TheoryData<string, string> Cases()
    {
        TheoryData<string, string> data = [];
        foreach (string id in s_representative)
        {
            data.Add("standalone", id);
            data.Add("aspnetcore", id);
        }

        return data;
    }

    public async Task InitializeAsync()
    {
        _standalone = new WebSocketServer("127.0.0.1:0", _ => NewHandler()).Start();

        (_app, Uri address) = await TestWebApp.StartAsync(services => services.AddTradeGateway((_, _) => NewHandler()));
        _aspNetEndPoint = new IPEndPoint(IPAddress.Loopback, address.Port);
    }

    public async Task DisposeAsync()
    {
        await _standalone!.DisposeAsync();
        await _app!.DisposeAsync();
    }

    private RecordingEchoHandler NewHandler()
    {
        var handler = new RecordingEchoHandler();
        _handlers.Enqueue(handler);
        return handler;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Case_behaves_the_same_over_a_real_socket(string host, string id)
    {
        ConformanceCase c = AutobahnCases.All.Single(x => x.Id == id);
        IPEndPoint endPoint = host == "standalone" ? _standalone!.LocalEndPoint! : _aspNetEndPoint!;

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        PipeReader reader = PipeReader.Create(stream);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"GET /trades HTTP/1.1\r\nHost: {endPoint}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        string response = await ReadResponseHeadAsync(reader);
        Assert.StartsWith("HTTP/1.1 101", response, StringComparison.Ordinal);

        Task sending = SendIgnoringResetAsync(stream, ClientFrames.Concat(c.Send));
        List<ServerFrame> frames = [];
        while (true)
        {
            ReadResult result = await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (ServerFrame.TryParse(ref buffer, out ServerFrame? frame))
            {
                frames.Add(frame!);
                if (frame!.Opcode == ClientFrames.Close)
                {
                    await sending;
                    socket.Shutdown(SocketShutdown.Send); // the client closes its side after the close handshake
                }
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        Assert.True(
            frames.Count == c.Expected.Length && frames.Zip(c.Expected).All(p => p.Second.Matches(p.First)),
            $"{host} {c}: expected [{string.Join(", ", c.Expected.AsEnumerable())}], got [{string.Join(", ", frames)}]");
    }

    private static async Task SendIgnoringResetAsync(Stream stream, byte[] bytes)
    {
        try
        {
            await stream.WriteAsync(bytes);
        }
        catch (IOException)
        {
            // A failing case may be closed by the server while the client still writes.
        }
    }

    private static async Task<string> ReadResponseHeadAsync(PipeReader reader)
    {
        while (true)
        {
            ReadResult result = await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            var sequenceReader = new SequenceReader<byte>(result.Buffer);
            if (sequenceReader.TryReadTo(out ReadOnlySequence<byte> head, "\r\n\r\n"u8))
            {
                string text = Encoding.ASCII.GetString(head.ToArray());
                reader.AdvanceTo(sequenceReader.Position);
                return text;
            }

            Assert.False(result.IsCompleted, "the server closed before answering the handshake");
            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }
}
