using WsGateway.Transport.Native;

namespace WsGateway.Tests.Hosting;

/// <summary>
/// An event loop's table of connections (<see cref="ConnectionSlots{T}"/>): the tag epoll gives back finds the
/// connection it was given for and nothing else, even once its slot has been reused.
/// </summary>
public sealed class NativeConnectionSlotsTests
{
    [Fact]
    public void A_tag_finds_its_occupant_until_it_is_removed()
    {
        var slots = new ConnectionSlots<string>();
        ulong tag = slots.Reserve();
        slots.Fill(tag, "a");

        Assert.Same("a", slots.Find(tag));
        Assert.Equal(1, slots.Count);
        Assert.True(slots.Remove(tag));
        Assert.Null(slots.Find(tag));
        Assert.Equal(0, slots.Count);
        Assert.False(slots.Remove(tag)); // removed once only
    }

    [Fact]
    public void A_reused_slot_has_a_new_tag_and_the_stale_tag_finds_nothing()
    {
        var slots = new ConnectionSlots<string>();
        ulong first = slots.Reserve();
        slots.Fill(first, "first");
        slots.Remove(first);

        ulong second = slots.Reserve();
        slots.Fill(second, "second");

        Assert.Equal(ConnectionSlots<string>.SlotOf(first), ConnectionSlots<string>.SlotOf(second));
        Assert.NotEqual(first, second);
        Assert.Null(slots.Find(first)); // a late event of the closed socket
        Assert.False(slots.Remove(first)); // and a late close does not free the new occupant's slot
        Assert.Same("second", slots.Find(second));
        Assert.Equal(1, slots.Count);
    }

    [Fact]
    public void The_table_grows_past_its_first_64_slots_and_keeps_every_occupant()
    {
        var slots = new ConnectionSlots<string>();
        var tags = new List<ulong>();
        for (int i = 0; i < 200; i++)
        {
            ulong tag = slots.Reserve();
            slots.Fill(tag, $"c{i}");
            tags.Add(tag);
        }

        Assert.Equal(200, slots.Count);
        Assert.Equal(200, slots.Used);
        Assert.Equal(200, tags.Select(ConnectionSlots<string>.SlotOf).Distinct().Count());
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal($"c{i}", slots.Find(tags[i]));
            Assert.Equal($"c{i}", slots[ConnectionSlots<string>.SlotOf(tags[i])]);
        }

        // Freed slots are taken again before the table grows.
        for (int i = 0; i < 200; i += 2)
        {
            Assert.True(slots.Remove(tags[i]));
        }

        Assert.Equal(100, slots.Count);
        for (int i = 0; i < 100; i++)
        {
            slots.Fill(slots.Reserve(), "again");
        }

        Assert.Equal(200, slots.Count);
        Assert.Equal(200, slots.Used);
    }

    [Fact]
    public void Tags_of_no_slot_find_nothing()
    {
        var slots = new ConnectionSlots<string>();
        slots.Fill(slots.Reserve(), "a");

        Assert.Null(slots.Find(ulong.MaxValue)); // the loop's wake-up and listener tags
        Assert.Null(slots.Find(ulong.MaxValue - 1));
        Assert.Null(slots.Find(5)); // a slot never handed out
        Assert.Null(slots.Find(1UL << 32)); // slot 0, a generation it has not reached
    }
}
