using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Conformance;

/// <summary>Runs every case of <see cref="AutobahnCases"/> over in-memory pipes, three ways: everything in one
/// write, byte by byte, and in 997-byte chunks (Autobahn's chunked variants), so that every parse path of the frame
/// reader (whole frame in one segment, frames split anywhere) is exercised.</summary>
public sealed class AutobahnConformanceTests
{
    public enum Delivery
    {
        OneWrite,
        ByteByByte,
        Chunks997,
    }

    public static TheoryData<string, Delivery> Cases()
    {
        TheoryData<string, Delivery> data = [];
        foreach (ConformanceCase c in AutobahnCases.All)
        {
            data.Add(c.Id, Delivery.OneWrite);
            data.Add(c.Id, Delivery.Chunks997);
            if (c.Send.Sum(s => s.Length) <= Math.Min(c.MaxChunked, 1024))
            {
                data.Add(c.Id, Delivery.ByteByByte);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Case_behaves_as_the_RFC_requires(string id, Delivery delivery)
    {
        ConformanceCase c = AutobahnCases.All.Single(x => x.Id == id);
        var handler = new RecordingEchoHandler();
        await using var connection = InMemoryConnection.Open(handler);

        byte[] all = ClientFrames.Concat(c.Send);
        int chunk = delivery switch
        {
            Delivery.ByteByByte => 1,
            Delivery.Chunks997 => 997,
            _ => 0,
        };
        Task sending = connection.SendAsync(all, chunk);
        List<ServerFrame> frames = await connection.ReadAllFramesAsync(sending);
        await sending;
        await connection.WaitClosedAsync();

        Assert.True(
            frames.Count == c.Expected.Length && frames.Zip(c.Expected).All(p => p.Second.Matches(p.First)),
            $"Case {c}: expected [{string.Join(", ", c.Expected.AsEnumerable())}], got [{string.Join(", ", frames)}]");
        Assert.Equal(1, handler.Disconnects);
        if (c.ServerFails)
        {
            Assert.Contains(handler.Errors, e => e.CloseCode == c.Expected[^1].CloseCode);
        }
    }

    [Fact]
    public void The_table_covers_Autobahn_sections_1_to_7_and_9()
    {
        string[] sections = ["1.", "2.", "3.", "4.", "5.", "6.", "7.", "9."];
        foreach (string section in sections)
        {
            Assert.Contains(AutobahnCases.All, c => c.Id.StartsWith(section, StringComparison.Ordinal));
        }

        Assert.Equal(AutobahnCases.All.Count, AutobahnCases.All.Select(c => c.Id).Distinct().Count());
    }
}
