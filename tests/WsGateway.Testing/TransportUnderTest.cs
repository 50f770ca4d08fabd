namespace WsGateway.Testing;

/// <summary>
/// Which transport the standalone servers of this test run use: <c>WSGW_TEST_TRANSPORT=kestrel</c> or <c>native</c>
/// (./test.sh runs the connection and example suites once with each); unset, the default (native on Linux).
/// </summary>
/// <remarks>
/// A test assembly whose servers must follow the variable calls <see cref="Select"/> from a module initializer of its
/// own (Infrastructure/TransportSelection.cs), so that it runs before any test: one here would run only when this
/// assembly is first loaded, which may be after the first server started.
/// </remarks>
public static class TransportUnderTest
{
    /// <summary>The transport asked for, or <see cref="GatewayTransport.Auto"/>.</summary>
    public static GatewayTransport Requested { get; private set; }

    /// <summary>The transport a standalone <c>ws://</c> server of this run must report.</summary>
    public static GatewayTransport Expected => Requested switch
    {
        GatewayTransport.Auto => OperatingSystem.IsLinux() ? GatewayTransport.Native : GatewayTransport.Kestrel,
        _ => Requested,
    };

    /// <summary>Reads <c>WSGW_TEST_TRANSPORT</c> and makes it every gateway's default transport.</summary>
    /// <exception cref="InvalidOperationException">The variable is set to something else than kestrel or native.</exception>
    public static void Select()
    {
        string? value = Environment.GetEnvironmentVariable("WSGW_TEST_TRANSPORT");
        Requested = value?.ToLowerInvariant() switch
        {
            null or "" => GatewayTransport.Auto,
            "kestrel" => GatewayTransport.Kestrel,
            "native" => GatewayTransport.Native,
            _ => throw new InvalidOperationException($"WSGW_TEST_TRANSPORT is '{value}': expected kestrel or native"),
        };
        TradeGatewayOptions.DefaultTransport = Requested;
    }
}
