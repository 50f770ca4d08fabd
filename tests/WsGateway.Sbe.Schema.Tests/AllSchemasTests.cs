using WsGateway.Sbe.Generator.Tests.Infrastructure;

namespace WsGateway.Sbe.Schema.Tests;

/// <summary>Every schema of shared/sbe either loads (and gets a decoder) or is refused with WSGW diagnostics.</summary>
public sealed class AllSchemasTests
{
    [Fact]
    public void Every_shared_schema_loads_or_is_refused_with_diagnostics()
    {
        string[] files = [.. Directory.GetFiles(SharedData.SbeRoot, "*.xml", SearchOption.AllDirectories)
            .Where(f => File.ReadAllText(f).Contains("messageSchema", StringComparison.Ordinal))];
        Assert.True(files.Length > 80, $"expected the ~100 shared schemas, found {files.Length}");

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

        Assert.True(loaded >= 80, $"only {loaded} schemas loaded; refused: {string.Join(", ", refused)}");
        Assert.Contains("Cme.Futures.Mdp3.Sbe.v1.13.xml", files.Select(Path.GetFileName));
        Assert.DoesNotContain("Cme.Futures.Mdp3.Sbe.v1.13.xml", refused);
        Assert.DoesNotContain("24X.Equities.MemoirDepthFeed.Sbe.v1.3.xml", refused);
        Assert.DoesNotContain("Coinbase.Deribit.MarketDataApi.Sbe.v1.0.xml", refused);
    }
}
