using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace WsGateway.LoadBench;

/// <summary>One measured throughput run.</summary>
/// <remarks><see cref="AllocatedBytes"/> covers the whole run (close handshakes included, connects not);
/// <see cref="SteadyAllocatedBytes"/> over <see cref="SteadyMessages"/> is a window inside the run, sampled while
/// every connection is still sending (0 messages when the run was too short to sample).</remarks>
internal readonly record struct ThroughputRun(long Messages, double Seconds, long ServerMessages, long ServerErrors, long AllocatedBytes, long SteadyAllocatedBytes, long SteadyMessages)
{
    public double MessagesPerSecond => Messages / Seconds;

    public double SteadyBytesPerMessage => SteadyMessages > 0 ? (double)SteadyAllocatedBytes / SteadyMessages : double.NaN;
}

/// <summary>The load side of every scenario. Every loop is bounded by a count and by a time limit.</summary>
internal static class Scenarios
{
    private const int ChunkBytes = 64 * 1024;

    /// <summary>Each of <paramref name="connections"/> connections sends its share of <paramref name="trades"/>
    /// as fast as it can, many frames per socket write, then a close frame; the run ends when every connection
    /// has the server's close answer (sent after it processed everything before the close).
    /// Takes <paramref name="expectedSeconds"/> (from the warm-up; 0 when unknown): when at least 0.2 s, the
    /// server's allocations are also sampled at 10 % and 45 % of it (calibration tends to underestimate the rate).</summary>
    public static async Task<ThroughputRun> ThroughputAsync(ServerProcess server, int connections, int tradesPerFrame, long trades, double expectedSeconds, TimeSpan timeLimit, CancellationToken cancellationToken)
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

            Task all = Task.WhenAll(tasks);
            Task<(long Bytes, long Messages)> steady = expectedSeconds >= 0.2
                ? SampleSteadyStateAsync(server, expectedSeconds, all, token)
                : Task.FromResult((0L, 0L));
            await all.ConfigureAwait(false);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            (long steadyBytes, long steadyMessages) = await steady.ConfigureAwait(false);
            ServerStats after = await server.StatsAsync(cancellationToken: token).ConfigureAwait(false);
            return new ThroughputRun(
                framesPerConnection * tradesPerFrame * connections,
                seconds,
                after.Messages - before.Messages,
                after.Errors - before.Errors,
                after.AllocatedBytes - before.AllocatedBytes,
                steadyBytes,
                steadyMessages);
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

    private static async Task<(long Bytes, long Messages)> SampleSteadyStateAsync(ServerProcess server, double expectedSeconds, Task run, CancellationToken cancellationToken)
    {
        await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(expectedSeconds * 0.1), cancellationToken)).ConfigureAwait(false);
        if (run.IsCompleted)
        {
            return (0, 0);
        }

        ServerStats first = await server.StatsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(expectedSeconds * 0.35), cancellationToken)).ConfigureAwait(false);
        if (run.IsCompleted)
        {
            return (0, 0);
        }

        ServerStats second = await server.StatsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return run.IsCompleted ? (0, 0) : (second.AllocatedBytes - first.AllocatedBytes, second.Messages - first.Messages);
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
    internal static async Task<LoadConnection[]> ConnectAsync(IPEndPoint endPoint, int count, CancellationToken cancellationToken)
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
