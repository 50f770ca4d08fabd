// One browser at a time on two cores, and OpenTelemetry subscribes to the WsGateway meter by name: never run two
// gateways of this assembly at once.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
