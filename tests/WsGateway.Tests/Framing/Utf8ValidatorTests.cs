using System.Text;
using System.Text.Unicode;
using FsCheck.Xunit;
using WsGateway.Framing;

namespace WsGateway.Tests.Framing;

/// <summary>Cases in the manner of Autobahn TestSuite section 6 (UTF-8 handling).</summary>
public class Utf8ValidatorTests
{
    public static TheoryData<string, byte[]> ValidTexts => new()
    {
        { "6.2 Hello-µ@ßöäüàá-UTF-8!!", "Hello-µ@ßöäüàá-UTF-8!!"u8.ToArray() },
        { "6.5 κόσμε", [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5] },
        { "6.6 first 1/2/3/4-byte", [0x00, 0xC2, 0x80, 0xE0, 0xA0, 0x80, 0xF0, 0x90, 0x80, 0x80] },
        { "6.7 last 1/2/3/4-byte", [0x7F, 0xDF, 0xBF, 0xEF, 0xBF, 0xBF, 0xF4, 0x8F, 0xBF, 0xBF] },
        { "6.11 around surrogates", [0xED, 0x9F, 0xBF, 0xEE, 0x80, 0x80, 0xEF, 0xBF, 0xBD] },
        { "empty", [] },
    };

    public static TheoryData<string, byte[], int> InvalidTexts => new()
    {
        // name, bytes, index of the first byte that proves the text invalid (bytes.Length: only the end does).
        { "overlong NUL C0 80", [0xC0, 0x80], 0 },
        { "overlong C1 BF", [0xC1, 0xBF], 0 },
        { "overlong 3-byte E0 80 80", [0xE0, 0x80, 0x80], 1 },
        { "overlong 3-byte E0 9F BF", [0xE0, 0x9F, 0xBF], 1 },
        { "overlong 4-byte F0 80 80 80", [0xF0, 0x80, 0x80, 0x80], 1 },
        { "overlong 4-byte F0 8F BF BF", [0xF0, 0x8F, 0xBF, 0xBF], 1 },
        { "surrogate ED A0 80", [0xED, 0xA0, 0x80], 1 },
        { "surrogate ED BF BF", [0xED, 0xBF, 0xBF], 1 },
        { "above U+10FFFF F4 90 80 80", [0xF4, 0x90, 0x80, 0x80], 1 },
        { "6.4.1 κόσμε F4 90 80 80 edited", [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xF4, 0x90, 0x80, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64], 12 },
        { "F5 lead", [0xF5, 0x80, 0x80, 0x80], 0 },
        { "FE", [0x41, 0xFE], 1 },
        { "FF", [0xFF], 0 },
        { "lone continuation", [0x41, 0x80, 0x41], 1 },
        { "missing continuation", [0xC2, 0x41], 1 },
        { "3-byte cut by ASCII", [0xE2, 0x82, 0x41], 2 },
        { "truncated 2-byte at end", [0x41, 0xCE], 2 },
        { "truncated 3-byte at end", [0xE0, 0xA0], 2 },
        { "truncated 4-byte at end", [0xCE, 0xBA, 0xF0, 0x90, 0x80], 5 },
    };

    private static bool ValidateInChunks(byte[] bytes, IReadOnlyList<int> cuts)
    {
        var validator = new Utf8Validator();
        int start = 0;
        foreach (int cut in cuts)
        {
            if (!validator.Append(bytes.AsSpan(start, cut - start), final: false))
            {
                return false;
            }

            start = cut;
        }

        return validator.Append(bytes.AsSpan(start), final: true);
    }

    [Theory]
    [MemberData(nameof(ValidTexts))]
    public void Valid_text_is_accepted_whole_and_split_at_every_one_and_two_positions(string name, byte[] bytes)
    {
        Assert.True(ValidateInChunks(bytes, []), name);
        for (int a = 0; a <= bytes.Length; a++)
        {
            Assert.True(ValidateInChunks(bytes, [a]), $"{name}: cut at {a}");
            for (int b = a; b <= bytes.Length; b++)
            {
                Assert.True(ValidateInChunks(bytes, [a, b]), $"{name}: cuts at {a}, {b}");
            }
        }

        Assert.True(ValidateInChunks(bytes, Enumerable.Range(0, bytes.Length + 1).ToArray()), $"{name}: byte by byte");
    }

    [Theory]
    [MemberData(nameof(InvalidTexts))]
    public void Invalid_text_is_rejected_whole_and_split_at_every_position(string name, byte[] bytes, int failAt)
    {
        _ = failAt;
        Assert.False(ValidateInChunks(bytes, []), name);
        for (int a = 0; a <= bytes.Length; a++)
        {
            Assert.False(ValidateInChunks(bytes, [a]), $"{name}: cut at {a}");
        }
    }

    [Theory]
    [MemberData(nameof(InvalidTexts))]
    public void Byte_by_byte_fails_on_exactly_the_first_invalid_byte(string name, byte[] bytes, int failAt)
    {
        var validator = new Utf8Validator();
        for (int i = 0; i < failAt; i++)
        {
            Assert.True(validator.Append(bytes.AsSpan(i, 1), final: false), $"{name}: byte {i} rejected too early");
        }

        if (failAt < bytes.Length)
        {
            Assert.False(validator.Append(bytes.AsSpan(failAt, 1), final: false), $"{name}: byte {failAt} not rejected");
        }
        else
        {
            Assert.False(validator.Append([], final: true), $"{name}: not rejected at the end");
        }
    }

    [Theory]
    [MemberData(nameof(InvalidTexts))]
    public void The_fragment_holding_the_first_invalid_byte_fails(string name, byte[] bytes, int failAt)
    {
        if (failAt == bytes.Length)
        {
            return;
        }

        // Autobahn 6.4.x: valid first fragment, a fragment carrying the bad byte (not final), the rest.
        for (int before = 0; before <= failAt; before++)
        {
            for (int after = failAt + 1; after <= bytes.Length; after++)
            {
                var validator = new Utf8Validator();
                Assert.True(validator.Append(bytes.AsSpan(0, before), final: false), $"{name}: first fragment [0,{before})");
                Assert.False(validator.Append(bytes.AsSpan(before, after - before), final: false), $"{name}: fragment [{before},{after})");
            }
        }
    }

    [Fact]
    public void Open_sequence_at_the_end_fails_only_when_final()
    {
        var validator = new Utf8Validator();
        Assert.True(validator.Append([0xF0, 0x9F], final: false));
        Assert.True(validator.HasIncompleteSequence);
        Assert.True(validator.Append([], final: false));
        Assert.True(validator.Append([0x98], final: false));
        Assert.False(validator.Append([], final: true));
    }

    [Fact]
    public void Sequence_split_across_three_chunks_completes()
    {
        var validator = new Utf8Validator();
        Assert.True(validator.Append([0x41, 0xF0], final: false));
        Assert.True(validator.Append([0x9F], final: false));
        Assert.True(validator.Append([0x98, 0x80, 0x42], final: true)); // U+1F600 then 'B'
        Assert.False(validator.HasIncompleteSequence);
    }

    [Fact]
    public void Reset_forgets_an_open_sequence()
    {
        var validator = new Utf8Validator();
        Assert.True(validator.Append([0xE2, 0x82], final: false));
        validator.Reset();
        Assert.False(validator.HasIncompleteSequence);
        Assert.True(validator.Append("plain"u8, final: true));
    }

    [Fact]
    public void Long_valid_text_with_invalid_byte_deep_inside_fails()
    {
        byte[] text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("abc κόσμε 😀 ", 200)));
        Assert.True(ValidateInChunks(text, [1000, 1001, 2500]));
        text[1777] = 0xFF;
        Assert.False(ValidateInChunks(text, [1000, 2500]));
    }

    [Property(MaxTest = 300)]
    public void Any_encoded_string_is_valid_in_any_chunking(string? text, byte[] cutSeeds)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text ?? string.Empty);
        Assert.True(ValidateInChunks(bytes, Cuts(bytes.Length, cutSeeds)));
    }

    [Property(MaxTest = 1000)]
    public void Chunked_result_equals_whole_buffer_validation(byte[] bytes, byte[] cutSeeds)
    {
        Assert.Equal(Utf8.IsValid(bytes), ValidateInChunks(bytes, Cuts(bytes.Length, cutSeeds)));
    }

    private static int[] Cuts(int length, byte[] seeds)
        => seeds.Select(s => length == 0 ? 0 : s % (length + 1)).Order().ToArray();
}
