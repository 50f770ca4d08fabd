using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using NATS.Client.Core;

namespace WsGateway.Sinks.Nats;

/// <summary>
/// JetStream publishing with many messages in flight on one connection, as <c>nats bench js pub --async</c> and the Go
/// client's <c>PublishAsync</c> do: each message is a core NATS publish with a reply subject of its own under one
/// inbox, and every acknowledgement comes back on one wildcard subscription, matched to its publish by that subject.
/// </summary>
/// <remarks>
/// <para>Why not <c>NatsJSContext.PublishAsync</c>: it is a request per message (a reply registration, a timeout timer,
/// a JSON-deserialized <c>PubAckResponse</c>, an options object and a header dictionary per message), which cost the
/// gateway about twice the CPU per trade that NATS.Net's core publish does. Here a message costs its reply subject
/// and its id (two short strings); the acknowledgement is checked in place for <c>"error"</c> and
/// <c>"duplicate"</c>, and the timeout is one per group of publishes.</para>
/// <para>A group (<see cref="Begin"/>) is the messages whose acknowledgements one caller waits for together. Its id is in
/// every reply subject (<c>INBOX.group.index</c>), so an acknowledgement that comes after its group was given up
/// (a timeout, then a retry under a new group) finds no group and is dropped: it never counts for another.</para>
/// </remarks>
internal sealed class JetStreamPublisher : IAsyncDisposable
{
    private static readonly INatsSerialize<ReadOnlyMemory<byte>> s_raw = NatsRawSerializer<ReadOnlyMemory<byte>>.Default;

    private readonly NatsConnection _connection;
    private readonly ConcurrentDictionary<long, PublishGroup> _groups = new();
    private readonly string _inbox;
    private AckSubscription? _subscription;
    private long _nextGroup;

    public JetStreamPublisher(NatsConnection connection)
    {
        _connection = connection;
        // Under the usual inbox prefix (permissions often allow replies only there), but not under the connection's own
        // inbox: NATS.Net keeps that one for its request-reply and would not deliver a wildcard subscription there.
        _inbox = $"{connection.Opts.InboxPrefix}.wsgw{Guid.NewGuid():N}.";
    }

    /// <summary>Subscribes to the acknowledgements' inbox (once; connects if needed).</summary>
    public async ValueTask StartAsync(CancellationToken cancellationToken)
    {
        if (_subscription is null)
        {
            var subscription = new AckSubscription(this, _connection, _inbox + ">");
            await _connection.AddSubAsync(subscription, cancellationToken).ConfigureAwait(false);
            _subscription = subscription;
        }
    }

    /// <summary>Starts a group of <paramref name="count"/> publishes whose acknowledgements are awaited together.</summary>
    public PublishGroup Begin(int count)
    {
        var group = new PublishGroup(Interlocked.Increment(ref _nextGroup), count);
        _groups[group.Id] = group;
        return group;
    }

    /// <summary>Publishes the <paramref name="index"/>th message of <paramref name="group"/> with its JetStream message
    /// id in <paramref name="headers"/> (reused by the caller: NATS.Net writes them out before this returns).</summary>
    public ValueTask PublishAsync(PublishGroup group, int index, string subject, ReadOnlyMemory<byte> data, NatsHeaders headers, CancellationToken cancellationToken)
        => _connection.PublishAsync(subject, data, headers, ReplySubject(group.Id, index), s_raw, null, cancellationToken);

    /// <summary>Forgets <paramref name="group"/>: acknowledgements that still come for it are dropped.</summary>
    public void End(PublishGroup group) => _groups.TryRemove(group.Id, out _);

    public async ValueTask DisposeAsync()
    {
        if (_subscription is { } subscription)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }
    }

    private string ReplySubject(long group, int index)
        => string.Create(CultureInfo.InvariantCulture, $"{_inbox}{group}.{index}");

    /// <summary>An acknowledgement (or a no-responders status) for reply subject <paramref name="subject"/>.</summary>
    private void OnReply(string subject, ReadOnlySequence<byte>? headers, ReadOnlySequence<byte> payload)
    {
        ReadOnlySpan<char> rest = subject.AsSpan(_inbox.Length);
        int dot = rest.IndexOf('.');
        if (dot <= 0
            || !long.TryParse(rest[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out long id)
            || !int.TryParse(rest[(dot + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            || !_groups.TryGetValue(id, out PublishGroup? group))
        {
            return; // a group given up (timed out and retried), or not ours
        }

        if (payload.Length == 0)
        {
            // A status message instead of an acknowledgement: "NATS/1.0 503" is no responders (no stream captures the
            // subject, or JetStream is not up), anything else is unexpected.
            string status = headers is { } h ? Encoding.ASCII.GetString(h.IsSingleSegment ? h.FirstSpan : h.ToArray()).Split('\r')[0] : "an empty reply";
            group.Fail(index, status.Contains(" 503", StringComparison.Ordinal) ? "no responders: no JetStream stream captures the subject (or JetStream is unavailable)" : status);
            return;
        }

        ReadOnlySpan<byte> ack = payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray();
        if (ack.IndexOf("\"error\""u8) >= 0)
        {
            group.Fail(index, Encoding.UTF8.GetString(ack));
        }
        else
        {
            group.Acknowledge(index, IsDuplicate(ack));
        }
    }

    /// <summary>Whether a publish acknowledgement says <c>"duplicate": true</c>. nats-server writes it with a space
    /// after the colon (<c>{"stream":"S","seq":5,"duplicate": true}</c>), a JSON encoder without: both are read.</summary>
    internal static bool IsDuplicate(ReadOnlySpan<byte> ack)
    {
        int at = ack.IndexOf("\"duplicate\""u8);
        if (at < 0)
        {
            return false;
        }

        ReadOnlySpan<byte> rest = ack[(at + "\"duplicate\""u8.Length)..].TrimStart(" \t\r\n"u8);
        if (rest.IsEmpty || rest[0] != (byte)':')
        {
            return false;
        }

        return rest[1..].TrimStart(" \t\r\n"u8).StartsWith("true"u8);
    }

    /// <summary>The inbox subscription: hands every reply to <see cref="OnReply"/> on the connection's reader, without
    /// a channel or a copy.</summary>
    private sealed class AckSubscription(JetStreamPublisher publisher, NatsConnection connection, string subject)
        : NatsSubBase(connection, connection.SubscriptionManager, subject, queueGroup: null, opts: null)
    {
        protected override ValueTask ReceiveInternalAsync(string subject, string? replyTo, ReadOnlySequence<byte>? headersBuffer, ReadOnlySequence<byte> payloadBuffer)
        {
            publisher.OnReply(subject, headersBuffer, payloadBuffer);
            return ValueTask.CompletedTask;
        }

        protected override void TryComplete()
        {
        }
    }
}

/// <summary>Publishes whose acknowledgements one caller awaits together (<see cref="JetStreamPublisher.Begin"/>).
/// Acknowledgements arrive on the connection's reader thread; each index counts once.</summary>
internal sealed class PublishGroup
{
    private readonly long[] _seen;
    private readonly long[] _duplicate;
    private readonly int _count;
    private readonly TaskCompletionSource _done = new();
    private int _remaining;
    private int _duplicates;
    private string? _error;
    private int _errorIndex = -1;

    public PublishGroup(long id, int count)
    {
        Id = id;
        _count = count;
        _remaining = count;
        _seen = new long[(count + 63) / 64];
        _duplicate = new long[_seen.Length];
        if (count == 0)
        {
            _done.TrySetResult();
        }
    }

    public long Id { get; }

    /// <summary>Completes when every publish is acknowledged, or at the first failure.</summary>
    public Task Completion => _done.Task;

    /// <summary>Acknowledgements that said the message was a duplicate (stored before: a retry or a resend).</summary>
    public int Duplicates => Volatile.Read(ref _duplicates);

    /// <summary>Whether the acknowledgement of publish <paramref name="index"/> said it was a duplicate.</summary>
    public bool IsDuplicate(int index) => (Volatile.Read(ref _duplicate[index >> 6]) & (1L << (index & 63))) != 0;

    /// <summary>Publishes not acknowledged yet.</summary>
    public int Remaining => Volatile.Read(ref _remaining);

    /// <summary>The first failure JetStream reported, and the index of its message; null when none.</summary>
    public (int Index, string Error)? Failure => Volatile.Read(ref _error) is { } error ? (_errorIndex, error) : null;

    public void Acknowledge(int index, bool duplicate)
    {
        if (!First(index))
        {
            return;
        }

        if (duplicate)
        {
            Interlocked.Or(ref _duplicate[index >> 6], 1L << (index & 63));
            Interlocked.Increment(ref _duplicates);
        }

        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _done.TrySetResult();
        }
    }

    public void Fail(int index, string error)
    {
        if (!First(index))
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _error, error, null) is null)
        {
            _errorIndex = index;
        }

        _done.TrySetResult();
    }

    /// <summary>True the first time <paramref name="index"/> is seen; false for an index out of range or seen.</summary>
    private bool First(int index)
    {
        if ((uint)index >= (uint)_count)
        {
            return false;
        }

        long bit = 1L << (index & 63);
        return (Interlocked.Or(ref _seen[index >> 6], bit) & bit) == 0;
    }
}
