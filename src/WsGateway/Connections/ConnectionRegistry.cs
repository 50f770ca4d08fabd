using System.Buffers;

namespace WsGateway.Connections;

/// <summary>
/// The connections a gateway tracks, from the accept until their slot is free: an intrusive doubly linked list through
/// two fields of each connection, under one lock taken at register and unregister (once each per connection, never
/// per message). A dictionary would cost each connection a node and its share of the bucket array (about 60 bytes,
/// and the garbage of every resize while thousands connect); the list costs two references.
/// </summary>
internal sealed class ConnectionRegistry
{
    private readonly Lock _lock = new();
    private WebSocketConnection? _head;
    private int _count;

    /// <summary>Connections tracked now.</summary>
    public int Count => Volatile.Read(ref _count);

    public void Add(WebSocketConnection connection)
    {
        lock (_lock)
        {
            if (connection.IsRegistered)
            {
                return;
            }

            connection.IsRegistered = true;
            connection.RegistryPrevious = null;
            connection.RegistryNext = _head;
            if (_head is not null)
            {
                _head.RegistryPrevious = connection;
            }

            _head = connection;
            _count++;
        }
    }

    /// <summary>Stops tracking <paramref name="connection"/>; idempotent.</summary>
    public void Remove(WebSocketConnection connection)
    {
        lock (_lock)
        {
            if (!connection.IsRegistered)
            {
                return;
            }

            connection.IsRegistered = false;
            if (connection.RegistryPrevious is { } previous)
            {
                previous.RegistryNext = connection.RegistryNext;
            }
            else
            {
                _head = connection.RegistryNext;
            }

            if (connection.RegistryNext is { } next)
            {
                next.RegistryPrevious = connection.RegistryPrevious;
            }

            connection.RegistryPrevious = null;
            connection.RegistryNext = null;
            _count--;
        }
    }

    /// <summary>The connections tracked now, copied under the lock into an array rented from the pool (the caller
    /// works on them without the lock, then gives the array back with <see cref="Return"/>).</summary>
    public ArraySegment<WebSocketConnection> Snapshot()
    {
        lock (_lock)
        {
            WebSocketConnection[] array = ArrayPool<WebSocketConnection>.Shared.Rent(Math.Max(1, _count));
            int n = 0;
            for (WebSocketConnection? c = _head; c is not null; c = c.RegistryNext)
            {
                array[n++] = c;
            }

            return new ArraySegment<WebSocketConnection>(array, 0, n);
        }
    }

    /// <summary>Gives back a <see cref="Snapshot"/>'s array, cleared.</summary>
    public static void Return(ArraySegment<WebSocketConnection> snapshot)
        => ArrayPool<WebSocketConnection>.Shared.Return(snapshot.Array!, clearArray: true);
}
