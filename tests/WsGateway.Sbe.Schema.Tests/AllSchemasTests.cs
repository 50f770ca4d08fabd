using WsGateway.Sbe.Generator.Tests.Infrastructure;

namespace WsGateway.Sbe.Schema.Tests;

/// <summary>
/// Every schema of tests/data/sbe and, in the reference suite, every exchange schema of the reference folder either
/// loads (and gets a decoder) or is refused with WSGW diagnostics.
/// </summary>
public sealed class AllSchemasTests
{
    [Fact]
    public void Every_schema_in_the_repository_loads_or_is_refused_with_diagnostics()
    {
        string[] files = Schemas(SbeData.Root);
        Assert.True(files.Length > 80, $"expected the ~85 schemas of tests/data/sbe, found {files.Length}");

        (int loaded, List<string> refused) = LoadAll(files);

        Assert.True(loaded >= 70, $"only {loaded} schemas loaded; refused: {string.Join(", ", refused)}");
        Assert.DoesNotContain("FixBinary.xml", refused); // CME MDP3 version 9 (Real Logic's copy)
        Assert.DoesNotContain("example-bigendian-test-schema.xml", refused);
        Assert.DoesNotContain("exchange-shapes.xml", refused);
        Assert.Contains("error-handler-dup-message-schema.xml", refused);
    }

    [Trait("Category", "Reference")]
    [Fact]
    public void Every_exchange_schema_loads_or_is_refused_with_diagnostics()
    {
        string[] files = Schemas(ReferenceData.Path("exchanges"));
        Assert.True(files.Length >= 19, $"expected the 19 exchange schemas of the reference folder, found {files.Length}");

        (_, List<string> refused) = LoadAll(files);

        Assert.Contains("Cme.Futures.Mdp3.Sbe.v1.13.xml", files.Select(Path.GetFileName));
        Assert.DoesNotContain("Cme.Futures.Mdp3.Sbe.v1.13.xml", refused);
        Assert.DoesNotContain("24X.Equities.MemoirDepthFeed.Sbe.v1.3.xml", refused);
        Assert.DoesNotContain("Coinbase.Deribit.MarketDataApi.Sbe.v1.0.xml", refused);
        Assert.DoesNotContain("stream_1_0.xml", refused);
        Assert.DoesNotContain("spot_3_2.xml", refused);
    }

    private static string[] Schemas(string root)
        => [.. Directory.GetFiles(root, "*.xml", SearchOption.AllDirectories)
            .Where(f => File.ReadAllText(f).Contains("messageSchema", StringComparison.Ordinal))];

    private static (int Loaded, List<string> Refused) LoadAll(string[] files)
    {
        int loaded = 0;
        var refused = new List<string>();
        foreach (string file in files)
        {
            try
            {
                _ = new SbeJsonDecoder(SbeSchema.Load(file));
                loaded++;
            }
            catch (SbeSchemaException e)
            {
                Assert.NotEmpty(e.Diagnostics);
                Assert.All(e.Diagnostics, d => Assert.Matches(@":\d+:\d+: error WSGW\d{3}: ", d));
                refused.Add(Path.GetFileName(file));
            }
        }

        return (loaded, refused);
    }
}
