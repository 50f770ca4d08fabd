using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace WsGateway.Cli.Bench;

/// <summary>One measured throughput run.</summary>
internal readonly record struct ThroughputRun(long Messages, double Seconds, long ServerMessages, long ServerErrors, long AllocatedBytes)
{
    public double MessagesPerSecond => Messages / Seconds;
}

/// <summary>The load side of every scenario. Every loop is bounded by a count and by a time limit.</summary>
internal static class Scenarios
{
    private const int ChunkBytes = 64 * 1024;

    /// <summary>Each of <paramref name="connections"/> connections sends its share of <paramref name="trades"/>
    /// as fast as it can, many frames per socket write, then a close frame; the run ends when every connection
    /// has the server's close answer (sent after it processed everything before the close).</summary>
    public static async Task<ThroughputRun> ThroughputAsync(ServerProcess server, int connections, int tradesPerFrame, long trades, TimeSpan timeLimit, CancellationToken cancellationToken)
    {
        int frameSize = Frames.FrameSize(tradesPerFrame);
        byte[] chunk = Frames.Build(tradesPerFrame, Math.Max(1, ChunkBytes / frameSize));
        long framesPerConnection = Math.Max(1, trades / tradesPerFrame / connections);

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeLimit);
        CancellationToken token = limit.Token;
        LoadConnection[] load = await ConnectAsync(server.EndPoint, connections, token).ConfigureAwait(false);
        try
        {
            ServerStats before = await server.StatsAsync(cancellationToken: token).ConfigureAwait(false);
            long start = Stopwatch.GetTimestamp();
            var tasks = new Task[connections];
            for (int i = 0; i < connections; i++)
            {
                LoadConnection connection = load[i];
                tasks[i] = Task.Run(async () =>
                {
                    await connection.SendFramesAsync(chunk, frameSize, framesPerConnection, token).ConfigureAwait(false);
                    await connection.CloseAsync(token).ConfigureAwait(false);
                }, token);
            }

            await Task.WhenAll(tasks).ConfigureAwait(false);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            ServerStats after = await server.StatsAsync(cancellationToken: token).ConfigureAwait(false);
            return new ThroughputRun(
                framesPerConnection * tradesPerFrame * connections,
                seconds,
                after.Messages - before.Messages,
                after.Errors - before.Errors,
                after.AllocatedBytes - before.AllocatedBytes);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{server.Kind}: throughput run ({connections} connections, {tradesPerFrame} trades per frame, {trades} trades) did not finish within {timeLimit.TotalSeconds:0} s");
        }
        finally
        {
            foreach (LoadConnection connection in load)
            {
                connection.Dispose();
            }
        }
    }

    /// <summary>Ping-pong on one connection: send one trade, wait for its echo, repeat.</summary>
    public static async Task<LatencyRecorder> PingPongAsync(ServerProcess server, int count, TimeSpan timeLimit, CancellationToken cancellationToken)
    {
        using LoadConnection connection = (await ConnectAsync(server.EndPoint, 1, cancellationToken).ConfigureAwait(false))[0];
        var recorder = new LatencyRecorder(count);
        byte[] frame = Frames.Build(1, 1);
        long deadline = Stopwatch.GetTimestamp() + (long)(timeLimit.TotalSeconds * Stopwatch.Frequency);
        await Task.Factory.StartNew(
            () =>
            {
                Socket socket = connection.Socket;
                socket.ReceiveTimeout = (int)timeLimit.TotalMilliseconds;
                for (int i = 0; i < count && !cancellationToken.IsCancellationRequested; i++)
                {
                    long sent = Stopwatch.GetTimestamp();
                    if (sent > deadline)
                    {
                        break;
                    }

                    socket.Send(frame);
                    connection.ReceiveDataFrame();
                    recorder.Record(Stopwatch.GetTimestamp() - sent);
                }
            },
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default).ConfigureAwait(false);
        await connection.CloseAsync(cancellationToken).ConfigureAwait(false);
        return recorder;
    }

    /// <summary>Echo round trips at a fixed rate on one connection: a sender thread sends one trade per interval,
    /// a receiver thread times each echo from the moment its trade was due (so a stall delays every trade behind
    /// it in the measurement too: no coordinated omission).</summary>
    public static async Task<LatencyRecorder> FixedRateAsync(ServerProcess server, int rate, int count, TimeSpan timeLimit, CancellationToken cancellationToken)
    {
        using LoadConnection connection = (await ConnectAsync(server.EndPoint, 1, cancellationToken).ConfigureAwait(false))[0];
        var recorder = new LatencyRecorder(count);
        byte[] frame = Frames.Build(1, 1);
        double interval = (double)Stopwatch.Frequency / rate;
        long sleepThreshold = Stopwatch.Frequency / 500; // 2 ms
        long start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 100;
        long deadline = start + (long)(timeLimit.TotalSeconds * Stopwatch.Frequency);
        int sent = 0;
        bool senderDone = false;
        Socket socket = connection.Socket;
        socket.ReceiveTimeout = 2000;

        Task sender = Task.Factory.StartNew(
            () =>
            {
                try
                {
                    for (int i = 0; i < count && !cancellationToken.IsCancellationRequested; i++)
                    {
                        long due = start + (long)(i * interval);
                        if (due > deadline)
                        {
                            break;
                        }

                        long now;
                        while ((now = Stopwatch.GetTimestamp()) < due)
                        {
                            if (due - now > sleepThreshold)
                            {
                                Thread.Sleep(1);
                            }
                            else
                            {
                                Thread.Yield();
                            }
                        }

                        socket.Send(frame);
                        Volatile.Write(ref sent, i + 1);
                    }
                }
                finally
                {
                    Volatile.Write(ref senderDone, true);
                }
            },
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        Task receiver = Task.Factory.StartNew(
            () =>
            {
                for (int i = 0; i < count; i++)
                {
                    if (Volatile.Read(ref senderDone) && i >= Volatile.Read(ref sent))
                    {
                        break;
                    }

                    try
                    {
                        connection.ReceiveDataFrame();
                    }
                    catch (SocketException ex) when (ex.SocketErrorCode == SocketError.TimedOut && Volatile.Read(ref senderDone) && i >= Volatile.Read(ref sent))
                    {
                        break;
                    }

                    recorder.Record(Stopwatch.GetTimestamp() - (start + (long)(i * interval)));
                }
            },
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        await Task.WhenAll(sender, receiver).ConfigureAwait(false);
        await connection.CloseAsync(cancellationToken).ConfigureAwait(false);
        return recorder;
    }

    /// <summary>Opens <paramref name="connections"/> idle WebSocket connections and measures the server's GC heap
    /// and working set (after a full GC) before and after; returns bytes per connection.</summary>
    public static async Task<(double GcHeap, double WorkingSet)> IdleMemoryAsync(ServerProcess server, int connections, TimeSpan timeLimit, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeLimit);
        CancellationToken token = limit.Token;

        ServerStats before = await server.StatsAsync(collect: true, token).ConfigureAwait(false);
        LoadConnection[] load = [];
        try
        {
            load = await ConnectAsync(server.EndPoint, connections, token).ConfigureAwait(false);
            await WaitForConnectionsAsync(server, c => c >= connections, token).ConfigureAwait(false);
            await Task.Delay(250, token).ConfigureAwait(false);
            ServerStats after = await server.StatsAsync(collect: true, token).ConfigureAwait(false);
            return ((after.GcHeapBytes - before.GcHeapBytes) / (double)connections, (after.WorkingSetBytes - before.WorkingSetBytes) / (double)connections);
        }
        finally
        {
            foreach (LoadConnection connection in load)
            {
                connection.Abort();
            }

            using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await WaitForConnectionsAsync(server, c => c == 0, drain.Token).ConfigureAwait(false);
        }
    }

    private static async Task WaitForConnectionsAsync(ServerProcess server, Func<int, bool> done, CancellationToken cancellationToken)
    {
        for (int i = 0; i < 600; i++)
        {
            if (done((await server.StatsAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Connections))
            {
                return;
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Connects and completes the handshake of <paramref name="count"/> connections, at most 64 at once.</summary>
    private static async Task<LoadConnection[]> ConnectAsync(IPEndPoint endPoint, int count, CancellationToken cancellationToken)
    {
        var connections = new LoadConnection?[count];
        int next = -1;
        async Task ConnectSomeAsync()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                connections[i] = await LoadConnection.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            }
        }

        try
        {
            await Task.WhenAll(Enumerable.Range(0, Math.Min(64, count)).Select(_ => ConnectSomeAsync())).ConfigureAwait(false);
        }
        catch
        {
            foreach (LoadConnection? connection in connections)
            {
                connection?.Abort();
            }

            throw;
        }

        return connections!;
    }
}
