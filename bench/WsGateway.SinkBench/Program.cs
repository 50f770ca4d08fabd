using WsGateway.SinkBench;

// dotnet run -c Release --project bench/WsGateway.SinkBench -- postgres --connection "Host=127.0.0.1;Port=5432;Username=postgres"
// dotnet run -c Release --project bench/WsGateway.SinkBench -- kafka            (librdkafka's in-process mock cluster)
// dotnet run -c Release --project bench/WsGateway.SinkBench -- kafka --bootstrap broker:9092 --topic bench-trades
return await SinkBenchCommand.Create().Parse(args).InvokeAsync().ConfigureAwait(false);
