using System.Buffers;
using System.Buffers.Binary;
using WsGateway.Sbe.Generator.Tests.Infrastructure;
using WsGateway.Sbe.Schema.Model;

namespace WsGateway.Sbe.Schema.Tests;

/// <summary>
/// <see cref="SbeJsonEncoder"/> is the inverse of <see cref="SbeJsonDecoder"/>: real messages (the Car vectors, the FIX
/// specification's examples, the project's exchange-shape vectors and, in the reference suite, Binance and CME
/// captures) decoded to JSON and encoded again are the same bytes; and for every message of every schema in schemas/
/// and tests/data/sbe, random messages survive decode → encode → decode unchanged.
/// </summary>
public sealed class EncoderRoundTripTests
{
    public static TheoryData<string, string[], int> Vectors => new()
    {
        { "reallogic/samples/example-schema.xml", ["vectors", "car", "car_baseline_le_207.sbe"], 0 },
        { "reallogic/samples/example-extension-schema.xml", ["vectors", "car", "car_extension_le_207.sbe"], 0 }, // version 0 under a v1 schema
        { "reallogic/test-resources/example-bigendian-test-schema.xml", ["vectors", "car", "car_bigendian_211.bin"], 0 },
        { "reallogic/test-resources/example-schema.xml", ["vectors", "car", "car_testschema_le_211.bin"], 0 },
        { "fix-spec/v1.0/Examples.xml", ["vectors", "fix-spec", "fixspec_NewOrderSingle_sofh_68.bin"], 6 }, // after the SOFH
        { "fix-spec/v1.0/Examples.xml", ["vectors", "fix-spec", "fixspec_ExecutionReport_sofh_84.bin"], 6 },
        { "fix-spec/v1.0/Examples.xml", ["vectors", "fix-spec", "fixspec_BusinessMessageReject_sofh_64.bin"], 6 },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Real_messages_decode_and_encode_to_the_same_bytes(string schema, string[] vector, int skip)
    {
        byte[] bytes = SbeData.Bytes(vector)[skip..];
        var decoder = new SbeJsonDecoder(SbeSchema.Load(SbeData.Path(schema.Split('/'))));

        byte[] encoded = RoundTrip(decoder, bytes, out _);

        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(encoded));
    }

    [Theory]
    [InlineData("trades-stream-event.hex")]
    [InlineData("response-with-book-ticker.hex")]
    [InlineData("account-position.hex")]
    [InlineData("account-position-v0.hex")] // version 0, block length 16: the v2 field is left out
    [InlineData("book-refresh.hex")] // padded blocks
    public void Exchange_shapes_encode_to_the_same_bytes_with_padding_as_zeros(string vector)
    {
        byte[] bytes = SbeData.Hex("wsgateway", "vectors", vector);
        var decoder = new SbeJsonDecoder(SbeSchema.Load(SbeData.Path("wsgateway", "exchange-shapes.xml")));

        byte[] encoded = RoundTrip(decoder, bytes, out _);

        // The vectors' padding is 0xee (README), which JSON does not carry: it comes back as 0x00, every other byte as it was.
        Assert.Equal(bytes.Length, encoded.Length);
        for (int i = 0; i < bytes.Length; i++)
        {
            Assert.True(encoded[i] == bytes[i] || (bytes[i] == 0xee && encoded[i] == 0), $"byte {i}: {bytes[i]:x2} came back as {encoded[i]:x2}");
        }
    }

    [Fact]
    public void The_padding_in_book_refresh_is_the_only_difference()
    {
        byte[] bytes = SbeData.Hex("wsgateway", "vectors", "book-refresh.hex");
        var decoder = new SbeJsonDecoder(SbeSchema.Load(SbeData.Path("wsgateway", "exchange-shapes.xml")));

        byte[] encoded = RoundTrip(decoder, bytes, out _);

        Assert.Contains(bytes, b => b == 0xee); // the test above compares something
        Assert.NotEqual(bytes, encoded);
    }

    [Trait("Category", "Reference")]
    [Theory]
    [InlineData("execution_report_event_1.sbe")]
    [InlineData("execution_report_event_2.sbe")]
    [InlineData("outbound_account_position_event_1.sbe")]
    [InlineData("web_socket_response_1.sbe")]
    public void Binance_captures_encode_to_the_same_bytes(string file)
    {
        byte[] bytes = SbeData.Bytes("vectors", "binance", "nautilus-spot-3_2", file);
        var decoder = new SbeJsonDecoder(SbeSchema.Load(ReferenceData.Path("exchanges", "binance", "spot_3_2.xml")));

        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(RoundTrip(decoder, bytes, out _)));
    }

    [Trait("Category", "Reference")]
    [Fact]
    public void Binance_book_ticker_response_encodes_to_the_same_bytes()
    {
        byte[] bytes = ReferenceData.Bytes("vectors", "binance", "kyber_ws_bookticker_spot2v0_125.bin");
        var decoder = new SbeJsonDecoder(SbeSchema.Load(ReferenceData.Path("exchanges", "binance", "spot_2_0.xml")));

        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(RoundTrip(decoder, bytes, out _)));
    }

    [Trait("Category", "Reference")]
    [Theory]
    [InlineData("MdIncrementalRefreshBook.pcap")]
    [InlineData("MdIncrementalRefreshOrderBook.pcap")]
    [InlineData("MdIncrementalRefreshTradeSummary.pcap")]
    [InlineData("MdIncrementalRefreshVolume.pcap")]
    public void Cme_mdp3_messages_encode_to_the_same_bytes(string file)
    {
        var decoder = new SbeJsonDecoder(SbeSchema.Load(SbeData.Path("reallogic", "test-resources", "FixBinary.xml")));
        int messages = 0;
        foreach (byte[] payload in ExchangeDecodeTests.UdpPayloads(ReferenceData.Bytes("vectors", "cme-mdp3", file)))
        {
            for (int position = 12; position < payload.Length;)
            {
                int msgSize = BinaryPrimitives.ReadUInt16LittleEndian(payload.AsSpan(position));
                byte[] message = payload[(position + 2)..(position + msgSize)];
                byte[] encoded = RoundTrip(decoder, message, out _);

                // MDP3 pads blocks; CME writes its padding as zeros, so the bytes are the capture's.
                Assert.Equal(Convert.ToHexString(message), Convert.ToHexString(encoded));
                position += msgSize;
                messages++;
            }
        }

        Assert.True(messages > 0);
    }

    public static TheoryData<string> RepositorySchemas()
    {
        var data = new TheoryData<string>();
        foreach (string file in Directory.GetFiles(Path.Combine(SbeData.RepoRoot, "schemas"), "*.xml")
            .Concat(Directory.GetFiles(SbeData.Root, "*.xml", SearchOption.AllDirectories))
            .Where(f => File.ReadAllText(f).Contains("messageSchema", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(SbeData.RepoRoot, file).Replace('\\', '/'));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RepositorySchemas))]
    public void Random_messages_of_every_message_of_every_schema_round_trip(string schemaFile)
    {
        SbeSchema schema;
        try
        {
            schema = SbeSchema.Load(Path.Combine(SbeData.RepoRoot, schemaFile));
        }
        catch (SbeSchemaException)
        {
            return; // refused schemas (error-handler-*.xml): AllSchemasTests covers them
        }

        AssertRandomMessagesRoundTrip(schema);
    }

    [Trait("Category", "Reference")]
    [Fact]
    public void Random_messages_of_every_exchange_schema_round_trip()
    {
        int schemas = 0;
        foreach (string file in Directory.GetFiles(ReferenceData.Path("exchanges"), "*.xml", SearchOption.AllDirectories))
        {
            SbeSchema schema;
            try
            {
                schema = SbeSchema.Load(file);
            }
            catch (SbeSchemaException)
            {
                continue;
            }

            AssertRandomMessagesRoundTrip(schema);
            schemas++;
        }

        Assert.True(schemas >= 15, $"only {schemas} exchange schemas loaded");
    }

    /// <summary>For each message, random messages: decode → JSON → encode → decode gives the same JSON, and encoding
    /// that JSON again gives the same bytes (the first encode canonicalises what JSON does not carry: padding, NaN
    /// payloads, set bits without a choice, bytes after a char array's NUL).</summary>
    private static void AssertRandomMessagesRoundTrip(SbeSchema schema)
    {
        if (schema.HeaderComposite.Members.Any(m => m.Presence == Presence.Constant))
        {
            return; // basic-schema-constant-header-field.xml: a constant schemaId (1) that is not the schema's id (2); no message of it decodes
        }

        var decoder = new SbeJsonDecoder(schema);
        var random = new Random(schema.Id * 7919);
        Assert.NotEmpty(schema.Model.Messages);
        foreach (MessageModel message in schema.Model.Messages)
        {
            for (int sample = 0; sample < 8; sample++)
            {
                byte[] bytes = RandomMessages.Create(schema, message, random, printableOnly: sample % 2 == 0);
                byte[] canonical = RoundTrip(decoder, bytes, out string json);
                byte[] again = RoundTrip(decoder, canonical, out string jsonAgain);

                Assert.True(json == jsonAgain, $"{schema.Package} {message.Name}: JSON changed on the round trip:\n{json}\n{jsonAgain}");
                Assert.True(canonical.AsSpan().SequenceEqual(again), $"{schema.Package} {message.Name}: bytes changed:\n{Convert.ToHexString(canonical)}\n{Convert.ToHexString(again)}");
                if (sample % 2 == 0)
                {
                    Assert.Equal(bytes.Length, canonical.Length); // printable text keeps its length in every encoding
                }
            }
        }
    }

    /// <summary>Decodes <paramref name="bytes"/> (one whole message), encodes the JSON, returns the bytes.</summary>
    internal static byte[] RoundTrip(SbeJsonDecoder decoder, byte[] bytes, out string json)
    {
        Assert.True(decoder.TryDecodeToJson(bytes, out json, out int consumed, out string? error), error);
        Assert.Equal(bytes.Length, consumed);
        var encoder = new SbeJsonEncoder(decoder.Schema);
        var output = new ArrayBufferWriter<byte>();
        Assert.True(encoder.TryEncode(System.Text.Encoding.UTF8.GetBytes(json), output, out string? encodeError), $"{encodeError}\n{json}");
        byte[] encoded = output.WrittenSpan.ToArray();

        Assert.True(decoder.TryDecodeToJson(encoded, out string again, out int length, out string? againError), againError);
        Assert.Equal(encoded.Length, length);
        Assert.Equal(json, again);
        return encoded;
    }
}

/// <summary>Random, well-framed messages of a schema's model: the header as the schema says, random block bytes, 0 to
/// 2 entries per group (nested included), 0 to 5 bytes of var data.</summary>
internal static class RandomMessages
{
    public static byte[] Create(SbeSchema schema, MessageModel message, Random random, bool printableOnly)
    {
        var output = new ArrayBufferWriter<byte>();
        bool bigEndian = schema.IsBigEndian;
        CompositeModel header = schema.HeaderComposite;
        Span<byte> head = output.GetSpan(schema.HeaderSize).Slice(0, schema.HeaderSize);
        Fill(head, random, printableOnly);
        foreach (FieldModel member in header.Members)
        {
            long value = member.Name switch
            {
                "blockLength" => message.BlockLength,
                "templateId" => message.Id,
                "schemaId" => schema.Id,
                "version" => schema.Version,
                _ => -1,
            };
            if (value >= 0 && member.Presence != Presence.Constant)
            {
                WriteInteger(head.Slice(member.Offset), member.Primitive, value, bigEndian);
            }
        }

        output.Advance(schema.HeaderSize);
        Block(schema, output, message.Fields, message.BlockLength, random, printableOnly);
        Groups(schema, output, message.Groups, random, printableOnly, bigEndian, depth: 0);
        Data(output, message.Data, random, printableOnly, bigEndian);
        return output.WrittenSpan.ToArray();
    }

    private static void Block(SbeSchema schema, ArrayBufferWriter<byte> output, EquatableArray<FieldModel> fields, int length, Random random, bool printableOnly)
    {
        Span<byte> block = output.GetSpan(length).Slice(0, length);
        Fill(block, random, printableOnly);
        PrintableText(schema, block, fields, random);
        output.Advance(length);
    }

    /// <summary>Char fields get printable ASCII: a char array in UTF-8 holding invalid UTF-8 comes back from JSON as
    /// U+FFFD, longer than the field (real senders write text there).</summary>
    private static void PrintableText(SbeSchema schema, Span<byte> block, EquatableArray<FieldModel> fields, Random random)
    {
        foreach (FieldModel field in fields)
        {
            if (field.Presence == Presence.Constant || field.Offset + field.Size > block.Length)
            {
                continue;
            }

            Span<byte> data = block.Slice(field.Offset, field.Size);
            if (field.Kind == FieldKind.Composite)
            {
                PrintableText(schema, data, schema.Type<CompositeModel>(field.TypeName).Members, random);
            }
            else if (field.Kind == FieldKind.Primitive && field.Primitive == PrimitiveKind.Char)
            {
                Fill(data, random, printableOnly: true);
            }
        }
    }

    private static void Groups(SbeSchema schema, ArrayBufferWriter<byte> output, EquatableArray<GroupModel> groups, Random random, bool printableOnly, bool bigEndian, int depth)
    {
        foreach (GroupModel group in groups)
        {
            DimensionModel dimension = group.Dimension;
            int count = depth > 2 ? 0 : random.Next(3);
            Span<byte> head = output.GetSpan(dimension.Size).Slice(0, dimension.Size);
            head.Clear();
            WriteInteger(head.Slice(dimension.BlockLengthOffset), dimension.BlockLengthPrimitive, group.BlockLength, bigEndian);
            WriteInteger(head.Slice(dimension.NumInGroupOffset), dimension.NumInGroupPrimitive, count, bigEndian);
            output.Advance(dimension.Size);
            for (int i = 0; i < count; i++)
            {
                Block(schema, output, group.Fields, group.BlockLength, random, printableOnly);
                Groups(schema, output, group.Groups, random, printableOnly, bigEndian, depth + 1);
                Data(output, group.Data, random, printableOnly, bigEndian);
            }
        }
    }

    private static void Data(ArrayBufferWriter<byte> output, EquatableArray<DataModel> data, Random random, bool printableOnly, bool bigEndian)
    {
        foreach (DataModel field in data)
        {
            int length = random.Next(6);
            Span<byte> span = output.GetSpan(field.HeaderSize + length).Slice(0, field.HeaderSize + length);
            span.Slice(0, field.HeaderSize).Clear();
            WriteInteger(span.Slice(field.LengthOffset), field.LengthPrimitive, length, bigEndian);

            // Text in its encoding comes back as it was only when it is valid in it: printable ASCII is, in all of them.
            Fill(span.Slice(field.HeaderSize), random, printableOnly || field.CharacterEncoding is not null);
            output.Advance(span.Length);
        }
    }

    private static void Fill(Span<byte> bytes, Random random, bool printableOnly)
    {
        random.NextBytes(bytes);
        if (printableOnly)
        {
            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)(0x20 + (bytes[i] % 95));
            }
        }
    }

    private static void WriteInteger(Span<byte> data, PrimitiveKind kind, long value, bool bigEndian)
    {
        switch (Primitives.Size(kind))
        {
            case 1:
                data[0] = (byte)value;
                break;
            case 2:
                if (bigEndian)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(data, (ushort)value);
                }
                else
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(data, (ushort)value);
                }

                break;
            case 4:
                if (bigEndian)
                {
                    BinaryPrimitives.WriteUInt32BigEndian(data, (uint)value);
                }
                else
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(data, (uint)value);
                }

                break;
            default:
                if (bigEndian)
                {
                    BinaryPrimitives.WriteUInt64BigEndian(data, (ulong)value);
                }
                else
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(data, (ulong)value);
                }

                break;
        }
    }
}
