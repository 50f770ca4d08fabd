using WsGateway.Connections;

namespace WsGateway.Tests.Lifecycle;

/// <summary>The deadlines on their own, as the heartbeat sees them: timestamps in, the action that is due out (a
/// frequency of 1,000 ticks a second, so that the numbers read as milliseconds).</summary>
public sealed class ConnectionTimeoutsTests
{
    private const long Second = 1000;

    private static ConnectionTimeouts Create(TradeGatewayOptions options)
    {
        var clock = new MillisecondClock();
        return new(new TimeoutSettings(options, clock), clock);
    }

    [Fact]
    public void A_flush_waiting_longer_than_the_write_timeout_is_due_first_in_any_state()
    {
        ConnectionTimeouts timeouts = Create(new TradeGatewayOptions { WriteTimeout = TimeSpan.FromSeconds(3) });
        timeouts.Opened(0);
        Assert.Equal(TimeoutAction.None, timeouts.Check(2 * Second, ConnectionState.Open, false, pendingFlushSince: 1));
        Assert.Equal(TimeoutAction.WriteTimeout, timeouts.Check((3 * Second) + 1, ConnectionState.Open, false, pendingFlushSince: 1));
        Assert.Equal(TimeoutAction.WriteTimeout, timeouts.Check((3 * Second) + 1, ConnectionState.Handshake, false, pendingFlushSince: 1));
    }

    [Fact]
    public void A_partial_frame_must_arrive_at_the_minimum_rate_counting_only_time_spent_waiting_for_it()
    {
        ConnectionTimeouts timeouts = Create(new TradeGatewayOptions { MinReceiveRate = new MinReceiveRate(100, TimeSpan.FromSeconds(2)), KeepAliveInterval = TimeSpan.Zero });
        timeouts.Opened(0);
        timeouts.ReadHandled(0, readLength: 10, buffered: 10, incomplete: true); // a frame begins

        // The handler ran for a minute: not the client's fault, not counted.
        Assert.Equal(TimeoutAction.None, timeouts.Check(60 * Second, ConnectionState.Open, false, 0));

        // Then one byte in 3 s of waiting: far below 100 B/s after the grace period.
        Assert.True(timeouts.TimingReads);
        timeouts.ReadStarting(60 * Second);
        timeouts.ReadHandled(63 * Second, readLength: 11, buffered: 11, incomplete: true);
        Assert.Equal(TimeoutAction.ReceiveTooSlow, timeouts.Check(63 * Second, ConnectionState.Open, false, 0));
        Assert.Equal((11L, 3.0), timeouts.ReceiveShortfall(63 * Second)); // its 11 bytes in the 3 s of waiting
    }

    [Fact]
    public void A_frame_completing_resets_the_receive_rate_clock()
    {
        ConnectionTimeouts timeouts = Create(new TradeGatewayOptions { MinReceiveRate = new MinReceiveRate(100, TimeSpan.FromSeconds(2)), KeepAliveInterval = TimeSpan.Zero });
        timeouts.ReadHandled(0, 10, 10, incomplete: true);
        timeouts.ReadStarting(0);
        timeouts.ReadHandled(5 * Second, 20, 0, incomplete: false); // done
        Assert.False(timeouts.TimingReads);
        Assert.Equal(TimeoutAction.None, timeouts.Check(100 * Second, ConnectionState.Open, false, 0));
    }

    [Fact]
    public void After_a_fast_first_megabyte_a_byte_every_20_s_is_closed_within_a_minute()
    {
        // Issue 17, finding 5, with the defaults: a lifetime average would keep this partial for about 73 minutes.
        ConnectionTimeouts timeouts = Create(new TradeGatewayOptions { KeepAliveInterval = TimeSpan.Zero });
        long now = 0;
        timeouts.ReadHandled(now, readLength: 14, buffered: 0, incomplete: true); // the 1 MiB frame's header
        for (int i = 0; i < 16; i++)
        {
            ReadStreamed(ref timeouts, now, now + 1, 64 * 1024); // the payload at 64 MiB/s
            now++;
        }

        long stalledAt = now;
        long? closedAt = null;
        while (closedAt is null && now < stalledAt + (600 * Second))
        {
            Assert.True(timeouts.TimingReads);
            timeouts.ReadStarting(now);
            for (int s = 1; s <= 20 && closedAt is null; s++)
            {
                if (timeouts.Check(now + (s * Second), ConnectionState.Open, false, 0) == TimeoutAction.ReceiveTooSlow)
                {
                    closedAt = now + (s * Second);
                }
            }

            now += 20 * Second;
            timeouts.ReadHandled(now, readLength: 1, buffered: 0, incomplete: true);
        }

        Assert.NotNull(closedAt);
        Assert.InRange(closedAt.Value - stalledAt, 30 * Second, 60 * Second); // the whole window, and no more
    }

    [Fact]
    public void A_steady_stream_at_the_minimum_rate_is_never_closed_even_in_bursts_with_pauses()
    {
        // 2,400 bytes every 10 s is exactly the default 240 B/s: a 1 MiB message takes about 73 minutes, and is delivered.
        ConnectionTimeouts timeouts = Create(new TradeGatewayOptions { KeepAliveInterval = TimeSpan.Zero });
        long now = 0;
        timeouts.ReadHandled(now, readLength: 2400, buffered: 0, incomplete: true);
        for (long received = 2400; received < 1024 * 1024; received += 2400)
        {
            timeouts.ReadStarting(now);
            for (int s = 1; s <= 10; s++)
            {
                Assert.Equal(TimeoutAction.None, timeouts.Check(now + (s * Second), ConnectionState.Open, false, 0));
            }

            now += 10 * Second;
            timeouts.ReadHandled(now, readLength: 2400, buffered: 0, incomplete: true);

            // The handler, a pause (backpressure) or the rate limit's throttle holds the next read for a minute:
            // the server is not reading, so none of it counts against the client.
            if (received % (240 * 1000) == 0)
            {
                Assert.Equal(TimeoutAction.None, timeouts.Check(now + (60 * Second), ConnectionState.Open, false, 0));
                now += 60 * Second;
            }
        }

        ReadStreamed(ref timeouts, now, now + Second, 100);
        timeouts.ReadStarting(now + Second);
        timeouts.ReadHandled(now + (2 * Second), readLength: 100, buffered: 0, incomplete: false); // the message is complete
        Assert.False(timeouts.TimingReads);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_pause_that_begins_while_the_server_waits_for_a_partial_frame_does_not_count_against_the_client(bool interrupted)
    {
        // The native loop waits for the rest of a frame (ReadStarting); backpressure pauses the connection before the
        // bytes are read, for a minute; then the bytes are read at once. Only the second before the pause counts.
        ConnectionTimeouts timeouts = Create(new TradeGatewayOptions { KeepAliveInterval = TimeSpan.Zero });
        timeouts.ReadHandled(0, readLength: 14, buffered: 14, incomplete: true); // a frame's header, its payload to come
        timeouts.ReadStarting(0);
        if (interrupted)
        {
            timeouts.ReadInterrupted(Second); // what the driver says when the pause begins
        }

        timeouts.ReadHandled(61 * Second, readLength: 14 + 100, buffered: 0, incomplete: true);

        TimeoutAction due = timeouts.Check(62 * Second, ConnectionState.Open, false, 0);
        Assert.Equal(interrupted ? TimeoutAction.None : TimeoutAction.ReceiveTooSlow, due); // without it the pause is the client's fault
    }

    /// <summary>One read of a frame that is streamed (its payload consumed as it arrives, nothing left buffered).</summary>
    private static void ReadStreamed(ref ConnectionTimeouts timeouts, long started, long ended, int bytes)
    {
        Assert.True(timeouts.TimingReads);
        timeouts.ReadStarting(started);
        timeouts.ReadHandled(ended, readLength: bytes, buffered: 0, incomplete: true);
    }

    [Fact]
    public void Keep_alive_pings_after_quiet_and_gives_up_without_an_answer_any_frame_answers()
    {
        ConnectionTimeouts timeouts = Create(new TradeGatewayOptions { KeepAliveInterval = TimeSpan.FromSeconds(30), KeepAliveTimeout = TimeSpan.FromSeconds(10) });
        timeouts.Opened(0);
        Assert.Equal(TimeoutAction.None, timeouts.Check(29 * Second, ConnectionState.Open, false, 0));
        Assert.Equal(TimeoutAction.Ping, timeouts.Check(30 * Second, ConnectionState.Open, false, 0));
        timeouts.PingSent(30 * Second);
        Assert.Equal(TimeoutAction.None, timeouts.Check(39 * Second, ConnectionState.Open, false, 0));
        Assert.Equal(TimeoutAction.KeepAliveTimeout, timeouts.Check(40 * Second, ConnectionState.Open, false, 0));
        timeouts.Received(40 * Second);
        Assert.Equal(TimeoutAction.None, timeouts.Check(41 * Second, ConnectionState.Open, false, 0));
    }

    [Fact]
    public void Handshake_close_and_finish_deadlines_each_belong_to_their_state()
    {
        ConnectionTimeouts timeouts = Create(new TradeGatewayOptions { HandshakeTimeout = TimeSpan.FromSeconds(10), CloseTimeout = TimeSpan.FromSeconds(5) });
        timeouts.StartHandshake(acceptedAt: 1 * Second); // from the TCP accept, TLS included
        Assert.Equal(TimeoutAction.None, timeouts.Check(10 * Second, ConnectionState.Handshake, false, 0));
        Assert.Equal(TimeoutAction.HandshakeTimeout, timeouts.Check(11 * Second, ConnectionState.Handshake, false, 0));
        Assert.Equal(TimeoutAction.CancelValidation, timeouts.Check(11 * Second, ConnectionState.Handshake, handshakeParsed: true, 0));

        timeouts.Opened(20 * Second);
        timeouts.CloseSent(20 * Second);
        Assert.Equal(TimeoutAction.None, timeouts.Check(24 * Second, ConnectionState.Closing, false, 0));
        Assert.Equal(TimeoutAction.CloseTimeout, timeouts.Check(25 * Second, ConnectionState.Closing, false, 0));

        timeouts.Finishing(30 * Second);
        Assert.Equal(TimeoutAction.None, timeouts.Check(34 * Second, ConnectionState.Finishing, false, 0));
        Assert.Equal(TimeoutAction.FinishTimeout, timeouts.Check(35 * Second, ConnectionState.Finishing, false, 0));
        Assert.Equal(TimeoutAction.None, timeouts.Check(99 * Second, ConnectionState.Closed, false, 0));
    }

    private sealed class MillisecondClock : TimeProvider
    {
        public override long TimestampFrequency => Second;

        public override long GetTimestamp() => 0;
    }
}
