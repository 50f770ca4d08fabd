namespace WsGateway.Sbe.Generator.Tests.Infrastructure;

// One encode/decode pair per generated namespace: the generated types differ, the code is the same.
// This is also the usage example for the generated API (sbe-tool's order: fields, groups, var data).

/// <summary>Car of reallogic/samples/example-schema.xml (namespace Baseline).</summary>
internal static class BaselineCar
{
    public static int Encode(CarValues v, Span<byte> buffer)
    {
        var car = new Baseline.CarEncoder().WrapAndApplyHeader(buffer, 0);
        car.SerialNumber = v.SerialNumber;
        car.ModelYear = v.ModelYear;
        car.Available = (Baseline.BooleanType)v.Available;
        car.Code = (Baseline.Model)v.Code;
        for (int i = 0; i < v.SomeNumbers.Length; i++)
        {
            car.SetSomeNumbers(i, v.SomeNumbers[i]);
        }

        car.SetVehicleCode(v.VehicleCode);
        car.Extras = (Baseline.OptionalExtras)v.Extras;
        car.Engine.Capacity = v.Capacity;
        car.Engine.NumCylinders = v.NumCylinders;
        car.Engine.SetManufacturerCode(v.ManufacturerCode);
        car.Engine.Efficiency = v.Efficiency;
        car.Engine.BoosterEnabled = (Baseline.BooleanType)v.BoosterEnabled;
        car.Engine.Booster.BoostType = (Baseline.BoostType)v.BoostType;
        car.Engine.Booster.HorsePower = v.HorsePower;

        var fuel = car.FuelFiguresCount(v.FuelFigures.Length);
        foreach (FuelFigure f in v.FuelFigures)
        {
            fuel.Next();
            fuel.Speed = f.Speed;
            fuel.Mpg = f.Mpg;
            fuel.SetUsageDescription(f.UsageDescription);
        }

        var performance = car.PerformanceFiguresCount(v.PerformanceFigures.Length);
        foreach (PerformanceFigure p in v.PerformanceFigures)
        {
            performance.Next().OctaneRating = p.OctaneRating;
            var acceleration = performance.AccelerationCount(p.Acceleration.Length);
            foreach (Acceleration a in p.Acceleration)
            {
                acceleration.Next().Mph = a.Mph;
                acceleration.Seconds = a.Seconds;
            }
        }

        car.SetManufacturer(v.Manufacturer);
        car.SetModel(v.Model);
        car.SetActivationCode(v.ActivationCode);
        return Baseline.MessageHeaderEncoder.EncodedLength + car.EncodedLength;
    }

    public static CarValues Decode(ReadOnlySpan<byte> buffer, out int limit)
    {
        var car = new Baseline.CarDecoder().WrapAndApplyHeader(buffer, 0);
        var someNumbers = new uint[Baseline.CarDecoder.SomeNumbersLength];
        for (int i = 0; i < someNumbers.Length; i++)
        {
            someNumbers[i] = car.GetSomeNumbers(i);
        }

        var engine = car.Engine;
        var fuelFigures = new List<FuelFigure>();
        var fuel = car.FuelFigures;
        while (fuel.HasNext)
        {
            fuel.Next();
            fuelFigures.Add(new FuelFigure(fuel.Speed, fuel.Mpg, fuel.GetUsageDescription()));
        }

        var performanceFigures = new List<PerformanceFigure>();
        var performance = car.PerformanceFigures;
        while (performance.HasNext)
        {
            byte octane = performance.Next().OctaneRating;
            var accelerations = new List<Acceleration>();
            var acceleration = performance.Acceleration;
            while (acceleration.HasNext)
            {
                acceleration.Next();
                accelerations.Add(new Acceleration(acceleration.Mph, acceleration.Seconds));
            }

            performanceFigures.Add(new PerformanceFigure(octane, [.. accelerations]));
        }

        string manufacturer = car.GetManufacturer();
        string model = car.GetModel();
        string activationCode = car.GetActivationCode();
        limit = car.Limit;
        return new CarValues(
            car.SerialNumber, car.ModelYear, (byte)car.Available, (byte)car.Code, someNumbers, car.GetVehicleCode(), (byte)car.Extras,
            engine.Capacity, engine.NumCylinders, engine.GetManufacturerCode(), engine.Efficiency, (byte)engine.BoosterEnabled,
            (byte)engine.Booster.BoostType, engine.Booster.HorsePower, [.. fuelFigures], [.. performanceFigures], manufacturer, model, activationCode);
    }
}

/// <summary>Car of reallogic/test-resources/example-bigendian-test-schema.xml (namespace Baseline_bigendian).</summary>
internal static class BigEndianCar
{
    public static int Encode(CarValues v, Span<byte> buffer)
    {
        var car = new Baseline_bigendian.CarEncoder().WrapAndApplyHeader(buffer, 0);
        car.SerialNumber = v.SerialNumber;
        car.ModelYear = v.ModelYear;
        car.Available = (Baseline_bigendian.BooleanType)v.Available;
        car.Code = (Baseline_bigendian.Model)v.Code;
        for (int i = 0; i < v.SomeNumbers.Length; i++)
        {
            car.SetSomeNumbers(i, v.SomeNumbers[i]);
        }

        car.SetVehicleCode(v.VehicleCode);
        car.Extras = (Baseline_bigendian.OptionalExtras)v.Extras;
        car.Engine.Capacity = v.Capacity;
        car.Engine.NumCylinders = v.NumCylinders;
        car.Engine.SetManufacturerCode(v.ManufacturerCode);
        car.Engine.Efficiency = v.Efficiency;
        car.Engine.BoosterEnabled = (Baseline_bigendian.BooleanType)v.BoosterEnabled;
        car.Engine.Booster.BoostType = (Baseline_bigendian.BoostType)v.BoostType;
        car.Engine.Booster.HorsePower = v.HorsePower;

        var fuel = car.FuelFiguresCount(v.FuelFigures.Length);
        foreach (FuelFigure f in v.FuelFigures)
        {
            fuel.Next();
            fuel.Speed = f.Speed;
            fuel.Mpg = f.Mpg;
            fuel.SetUsageDescription(f.UsageDescription);
        }

        var performance = car.PerformanceFiguresCount(v.PerformanceFigures.Length);
        foreach (PerformanceFigure p in v.PerformanceFigures)
        {
            performance.Next().OctaneRating = p.OctaneRating;
            var acceleration = performance.AccelerationCount(p.Acceleration.Length);
            foreach (Acceleration a in p.Acceleration)
            {
                acceleration.Next().Mph = a.Mph;
                acceleration.Seconds = a.Seconds;
            }
        }

        car.SetManufacturer(v.Manufacturer);
        car.SetModel(v.Model);
        car.SetActivationCode(v.ActivationCode);
        return Baseline_bigendian.MessageHeaderEncoder.EncodedLength + car.EncodedLength;
    }

    public static CarValues Decode(ReadOnlySpan<byte> buffer, out int limit)
    {
        var car = new Baseline_bigendian.CarDecoder().WrapAndApplyHeader(buffer, 0);
        var someNumbers = new uint[Baseline_bigendian.CarDecoder.SomeNumbersLength];
        for (int i = 0; i < someNumbers.Length; i++)
        {
            someNumbers[i] = car.GetSomeNumbers(i);
        }

        var engine = car.Engine;
        var fuelFigures = new List<FuelFigure>();
        var fuel = car.FuelFigures;
        while (fuel.HasNext)
        {
            fuel.Next();
            fuelFigures.Add(new FuelFigure(fuel.Speed, fuel.Mpg, fuel.GetUsageDescription()));
        }

        var performanceFigures = new List<PerformanceFigure>();
        var performance = car.PerformanceFigures;
        while (performance.HasNext)
        {
            byte octane = performance.Next().OctaneRating;
            var accelerations = new List<Acceleration>();
            var acceleration = performance.Acceleration;
            while (acceleration.HasNext)
            {
                acceleration.Next();
                accelerations.Add(new Acceleration(acceleration.Mph, acceleration.Seconds));
            }

            performanceFigures.Add(new PerformanceFigure(octane, [.. accelerations]));
        }

        string manufacturer = car.GetManufacturer();
        string model = car.GetModel();
        string activationCode = car.GetActivationCode();
        limit = car.Limit;
        return new CarValues(
            car.SerialNumber, car.ModelYear, (byte)car.Available, (byte)car.Code, someNumbers, car.GetVehicleCode(), (byte)car.Extras,
            engine.Capacity, engine.NumCylinders, engine.GetManufacturerCode(), engine.Efficiency, (byte)engine.BoosterEnabled,
            (byte)engine.Booster.BoostType, engine.Booster.HorsePower, [.. fuelFigures], [.. performanceFigures], manufacturer, model, activationCode);
    }
}

/// <summary>Car of reallogic/test-resources/example-schema.xml (namespace Baseline.TestSchema: little-endian, someNumbers uint32[5]).</summary>
internal static class TestSchemaCar
{
    public static int Encode(CarValues v, Span<byte> buffer)
    {
        var car = new Baseline.TestSchema.CarEncoder().WrapAndApplyHeader(buffer, 0);
        car.SerialNumber = v.SerialNumber;
        car.ModelYear = v.ModelYear;
        car.Available = (Baseline.TestSchema.BooleanType)v.Available;
        car.Code = (Baseline.TestSchema.Model)v.Code;
        for (int i = 0; i < v.SomeNumbers.Length; i++)
        {
            car.SetSomeNumbers(i, v.SomeNumbers[i]);
        }

        car.SetVehicleCode(v.VehicleCode);
        car.Extras = (Baseline.TestSchema.OptionalExtras)v.Extras;
        car.Engine.Capacity = v.Capacity;
        car.Engine.NumCylinders = v.NumCylinders;
        car.Engine.SetManufacturerCode(v.ManufacturerCode);
        car.Engine.Efficiency = v.Efficiency;
        car.Engine.BoosterEnabled = (Baseline.TestSchema.BooleanType)v.BoosterEnabled;
        car.Engine.Booster.BoostType = (Baseline.TestSchema.BoostType)v.BoostType;
        car.Engine.Booster.HorsePower = v.HorsePower;

        var fuel = car.FuelFiguresCount(v.FuelFigures.Length);
        foreach (FuelFigure f in v.FuelFigures)
        {
            fuel.Next();
            fuel.Speed = f.Speed;
            fuel.Mpg = f.Mpg;
            fuel.SetUsageDescription(f.UsageDescription);
        }

        var performance = car.PerformanceFiguresCount(v.PerformanceFigures.Length);
        foreach (PerformanceFigure p in v.PerformanceFigures)
        {
            performance.Next().OctaneRating = p.OctaneRating;
            var acceleration = performance.AccelerationCount(p.Acceleration.Length);
            foreach (Acceleration a in p.Acceleration)
            {
                acceleration.Next().Mph = a.Mph;
                acceleration.Seconds = a.Seconds;
            }
        }

        car.SetManufacturer(v.Manufacturer);
        car.SetModel(v.Model);
        car.SetActivationCode(v.ActivationCode);
        return Baseline.TestSchema.MessageHeaderEncoder.EncodedLength + car.EncodedLength;
    }

    public static CarValues Decode(ReadOnlySpan<byte> buffer, out int limit)
    {
        var car = new Baseline.TestSchema.CarDecoder().WrapAndApplyHeader(buffer, 0);
        var someNumbers = new uint[Baseline.TestSchema.CarDecoder.SomeNumbersLength];
        for (int i = 0; i < someNumbers.Length; i++)
        {
            someNumbers[i] = car.GetSomeNumbers(i);
        }

        var engine = car.Engine;
        var fuelFigures = new List<FuelFigure>();
        var fuel = car.FuelFigures;
        while (fuel.HasNext)
        {
            fuel.Next();
            fuelFigures.Add(new FuelFigure(fuel.Speed, fuel.Mpg, fuel.GetUsageDescription()));
        }

        var performanceFigures = new List<PerformanceFigure>();
        var performance = car.PerformanceFigures;
        while (performance.HasNext)
        {
            byte octane = performance.Next().OctaneRating;
            var accelerations = new List<Acceleration>();
            var acceleration = performance.Acceleration;
            while (acceleration.HasNext)
            {
                acceleration.Next();
                accelerations.Add(new Acceleration(acceleration.Mph, acceleration.Seconds));
            }

            performanceFigures.Add(new PerformanceFigure(octane, [.. accelerations]));
        }

        string manufacturer = car.GetManufacturer();
        string model = car.GetModel();
        string activationCode = car.GetActivationCode();
        limit = car.Limit;
        return new CarValues(
            car.SerialNumber, car.ModelYear, (byte)car.Available, (byte)car.Code, someNumbers, car.GetVehicleCode(), (byte)car.Extras,
            engine.Capacity, engine.NumCylinders, engine.GetManufacturerCode(), engine.Efficiency, (byte)engine.BoosterEnabled,
            (byte)engine.Booster.BoostType, engine.Booster.HorsePower, [.. fuelFigures], [.. performanceFigures], manufacturer, model, activationCode);
    }
}
