using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace WsGateway.Framing;

/// <summary>
/// The grow-and-return of an array rented from an <see cref="ArrayPool{T}"/>, for buffers that hold no array while
/// empty (<see langword="null"/>) and rent one on the first write: <see cref="MessageBuffer"/>,
/// <c>RentedQueue</c> and the native transport's read tail in WsGateway, <c>SinkBatch</c> in WsGateway.Sinks.
/// </summary>
/// <remarks>In Framing because Framing is also compiled into WsGateway.Client (with <see cref="MessageBuffer"/>).</remarks>
internal static class PooledArray
{
    /// <summary>
    /// Makes <paramref name="array"/> hold at least <paramref name="needed"/> items. When it is too small (or null),
    /// it is replaced by one rented from <paramref name="pool"/> (<see cref="ArrayPool{T}.Shared"/> by default) of
    /// twice its length, at least <paramref name="minimum"/> and <paramref name="needed"/>, and the doubling at most
    /// <paramref name="maximum"/>; the <paramref name="used"/> items from <paramref name="usedStart"/> move to the
    /// front of the new array and the old one goes back to the pool.
    /// </summary>
    /// <param name="array">The pooled array, or null (or empty) for none.</param>
    /// <param name="used">How many items to keep.</param>
    /// <param name="needed">How many items the array must hold, the kept ones included.</param>
    /// <param name="minimum">The smallest array to rent.</param>
    /// <param name="maximum">Cap on the doubling (never below <paramref name="needed"/>): a buffer's size limit.</param>
    /// <param name="usedStart">Where the items to keep begin in the old array.</param>
    /// <param name="pool">The pool the array comes from and goes back to.</param>
    public static void Grow<T>(
        [NotNull] ref T[]? array,
        int used,
        int needed,
        int minimum = 0,
        int maximum = int.MaxValue,
        int usedStart = 0,
        ArrayPool<T>? pool = null)
    {
        if (array is not null && array.Length >= needed)
        {
            return;
        }

        pool ??= ArrayPool<T>.Shared;
        int length = array?.Length ?? 0;
        long doubled = Math.Min(Math.Max((long)length * 2, minimum), maximum);
        T[] grown = pool.Rent((int)Math.Max(doubled, needed));
        if (array is not null)
        {
            array.AsSpan(usedStart, used).CopyTo(grown);
            Return(ref array, pool);
        }

        array = grown;
    }

    /// <summary>Gives <paramref name="array"/> back to <paramref name="pool"/> (<see cref="ArrayPool{T}.Shared"/> by
    /// default) unless it is null or empty, and sets it to null.</summary>
    public static void Return<T>(ref T[]? array, ArrayPool<T>? pool = null)
    {
        if (array is { Length: > 0 } rented)
        {
            (pool ?? ArrayPool<T>.Shared).Return(rented);
        }

        array = null;
    }
}
