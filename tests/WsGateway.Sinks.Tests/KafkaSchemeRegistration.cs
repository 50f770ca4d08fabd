using System.Runtime.CompilerServices;
using WsGateway.Sinks.Kafka;

namespace WsGateway.Sinks.Tests;

/// <summary>kafka:// lives in WsGateway.Sinks.Kafka, registered the way a library user registers it.</summary>
internal static class KafkaSchemeRegistration
{
    [ModuleInitializer]
    internal static void Register() => SinkFactory.Register(new KafkaSinkScheme());
}
