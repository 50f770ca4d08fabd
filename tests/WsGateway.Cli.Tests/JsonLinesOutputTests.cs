using System.Text;

namespace WsGateway.Cli.Tests;

/// <summary>The shared output of <c>wsgw serve --handler json</c>: lines of concurrent connections never interleave,
/// even on a stream that, like a full pipe, takes a write in pieces.</summary>
public sealed class JsonLinesOutputTests
{
    [Fact]
    public void Frames_written_at_once_stay_whole_on_a_stream_that_takes_them_in_pieces()
    {
        const int Writers = 4;
        const int FramesEach = 50;
        var stream = new PiecewiseStream(pieceSize: 16);
        var output = new JsonLinesOutput(stream, TextWriter.Null);

        using var start = new Barrier(Writers);
        Thread[] threads = [.. Enumerable.Range(0, Writers).Select(w => new Thread(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < FramesEach; i++)
            {
                // Two lines per frame, each made of its writer's digit: a line holding two digits was cut into.
                string line = new((char)('0' + w), 40);
                output.Write(Encoding.ASCII.GetBytes($"{line}\n{line}\n"), messages: 2);
            }
        }))];
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        foreach (Thread thread in threads)
        {
            Assert.True(thread.Join(TimeSpan.FromSeconds(30)));
        }

        string[] lines = Encoding.ASCII.GetString(stream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Writers * FramesEach * 2, lines.Length);
        Assert.All(lines, l => Assert.True(l.Length == 40 && l.All(c => c == l[0]), $"interleaved: {l}"));
        for (int i = 0; i < lines.Length; i += 2)
        {
            Assert.Equal(lines[i], lines[i + 1]); // a frame's lines stay together
        }

        Assert.Equal(Writers * FramesEach * 2, output.Messages);
    }

    /// <summary>Accepts each write in pieces, letting other threads in between (as a pipe does once it is full).</summary>
    private sealed class PiecewiseStream(int pieceSize) : Stream
    {
        private readonly MemoryStream _bytes = new();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public byte[] ToArray()
        {
            lock (_bytes)
            {
                return _bytes.ToArray();
            }
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            for (int offset = 0; offset < buffer.Length; offset += pieceSize)
            {
                lock (_bytes)
                {
                    _bytes.Write(buffer.Slice(offset, Math.Min(pieceSize, buffer.Length - offset)));
                }

                Thread.Sleep(1); // another writer's turn
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
