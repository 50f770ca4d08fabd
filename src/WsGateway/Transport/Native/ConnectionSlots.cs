namespace WsGateway.Transport.Native;

/// <summary>
/// The connections an <see cref="EventLoop"/> owns, by slot (loop thread only, but <see cref="Count"/>). Each holds a
/// tag, <c>generation &lt;&lt; 32 | slot</c>, which epoll gives back with the socket's events; a slot's generation
/// changes when it is freed, so a late event of a closed socket finds nothing, even once the slot has a new occupant.
/// </summary>
/// <typeparam name="T">The occupants (<see cref="NativeConnection"/>).</typeparam>
internal sealed class ConnectionSlots<T>
    where T : class
{
    private const int InitialSize = 64;

    private T?[] _slots = new T?[InitialSize];
    private uint[] _generations = new uint[InitialSize];
    private int[] _free = new int[InitialSize];
    private int _freeCount;
    private int _used;
    private int _count;

    /// <summary>Occupied slots (read by any thread: the accepting loop places connections by it).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Slots handed out so far: every occupant is below it.</summary>
    public int Used => _used;

    /// <summary>The occupant of <paramref name="slot"/> (below <see cref="Used"/>), or null.</summary>
    public T? this[int slot] => _slots[slot];

    /// <summary>The slot of <paramref name="tag"/>.</summary>
    public static int SlotOf(ulong tag) => (int)(uint)tag;

    /// <summary>Takes a free slot for an occupant about to be made, and gives its tag; <see cref="Fill"/> puts the
    /// occupant in.</summary>
    public ulong Reserve()
    {
        int slot;
        if (_freeCount > 0)
        {
            slot = _free[--_freeCount];
        }
        else
        {
            if (_used == _slots.Length)
            {
                Array.Resize(ref _slots, _slots.Length * 2);
                Array.Resize(ref _generations, _generations.Length * 2);
                Array.Resize(ref _free, _free.Length * 2);
            }

            slot = _used++;
        }

        return ((ulong)_generations[slot] << 32) | (uint)slot;
    }

    /// <summary>Puts <paramref name="occupant"/> in the slot <see cref="Reserve"/> gave <paramref name="tag"/> for.</summary>
    public void Fill(ulong tag, T occupant)
    {
        _slots[SlotOf(tag)] = occupant;
        Volatile.Write(ref _count, _count + 1);
    }

    /// <summary>The occupant <paramref name="tag"/> was given for, or null when it has left (or the tag is not one of
    /// these slots').</summary>
    public T? Find(ulong tag)
    {
        int slot = SlotOf(tag);
        return (uint)slot < (uint)_used && _generations[slot] == (uint)(tag >> 32) ? _slots[slot] : null;
    }

    /// <summary>Frees the slot of <paramref name="tag"/>'s occupant, whose tag then finds nothing.</summary>
    /// <returns>False when that occupant had already left.</returns>
    public bool Remove(ulong tag)
    {
        if (Find(tag) is null)
        {
            return false;
        }

        int slot = SlotOf(tag);
        _slots[slot] = null;
        _generations[slot]++;
        _free[_freeCount++] = slot;
        Volatile.Write(ref _count, _count - 1);
        return true;
    }
}
