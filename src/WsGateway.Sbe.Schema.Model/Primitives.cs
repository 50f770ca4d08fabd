using System.Globalization;

namespace WsGateway.Sbe.Schema.Model;

/// <summary>SBE primitive types: names, sizes and ranges.</summary>
internal static class Primitives
{
    public static bool TryParse(string name, out PrimitiveKind kind)
    {
        switch (name)
        {
            case "char": kind = PrimitiveKind.Char; return true;
            case "int8": kind = PrimitiveKind.Int8; return true;
            case "uint8": kind = PrimitiveKind.UInt8; return true;
            case "int16": kind = PrimitiveKind.Int16; return true;
            case "uint16": kind = PrimitiveKind.UInt16; return true;
            case "int32": kind = PrimitiveKind.Int32; return true;
            case "uint32": kind = PrimitiveKind.UInt32; return true;
            case "int64": kind = PrimitiveKind.Int64; return true;
            case "uint64": kind = PrimitiveKind.UInt64; return true;
            case "float": kind = PrimitiveKind.Float; return true;
            case "double": kind = PrimitiveKind.Double; return true;
            default: kind = default; return false;
        }
    }

    public static string SbeName(PrimitiveKind kind) => kind switch
    {
        PrimitiveKind.Char => "char",
        PrimitiveKind.Int8 => "int8",
        PrimitiveKind.UInt8 => "uint8",
        PrimitiveKind.Int16 => "int16",
        PrimitiveKind.UInt16 => "uint16",
        PrimitiveKind.Int32 => "int32",
        PrimitiveKind.UInt32 => "uint32",
        PrimitiveKind.Int64 => "int64",
        PrimitiveKind.UInt64 => "uint64",
        PrimitiveKind.Float => "float",
        _ => "double",
    };

    public static int Size(PrimitiveKind kind) => kind switch
    {
        PrimitiveKind.Char or PrimitiveKind.Int8 or PrimitiveKind.UInt8 => 1,
        PrimitiveKind.Int16 or PrimitiveKind.UInt16 => 2,
        PrimitiveKind.Int32 or PrimitiveKind.UInt32 or PrimitiveKind.Float => 4,
        _ => 8,
    };

    public static bool IsFloatingPoint(PrimitiveKind kind) => kind is PrimitiveKind.Float or PrimitiveKind.Double;

    /// <summary>int8 to int64 (their values are <see cref="SignedValue"/>s; char and unsigned types' are <see cref="UnsignedValue"/>s).</summary>
    public static bool IsSigned(PrimitiveKind kind) => kind is PrimitiveKind.Int8 or PrimitiveKind.Int16 or PrimitiveKind.Int32 or PrimitiveKind.Int64;

    public static decimal MinInteger(PrimitiveKind kind) => kind switch
    {
        PrimitiveKind.Int8 => sbyte.MinValue,
        PrimitiveKind.Int16 => short.MinValue,
        PrimitiveKind.Int32 => int.MinValue,
        PrimitiveKind.Int64 => long.MinValue,
        _ => 0,
    };

    public static decimal MaxInteger(PrimitiveKind kind) => kind switch
    {
        PrimitiveKind.Char or PrimitiveKind.UInt8 => byte.MaxValue,
        PrimitiveKind.Int8 => sbyte.MaxValue,
        PrimitiveKind.Int16 => short.MaxValue,
        PrimitiveKind.UInt16 => ushort.MaxValue,
        PrimitiveKind.Int32 => int.MaxValue,
        PrimitiveKind.UInt32 => uint.MaxValue,
        PrimitiveKind.Int64 => long.MaxValue,
        _ => ulong.MaxValue,
    };

    public static long MaxUnsigned(PrimitiveKind kind) => kind switch
    {
        PrimitiveKind.Char or PrimitiveKind.UInt8 => byte.MaxValue,
        PrimitiveKind.Int8 => sbyte.MaxValue,
        PrimitiveKind.Int16 => short.MaxValue,
        PrimitiveKind.UInt16 => ushort.MaxValue,
        PrimitiveKind.Int32 => int.MaxValue,
        PrimitiveKind.UInt32 => uint.MaxValue,
        _ => long.MaxValue,
    };
}

/// <summary>Reads schema values (nullValue, minValue, maxValue, constants, enum values) as typed <see cref="SbeValue"/>s.</summary>
internal static class SchemaValues
{
    public enum Bound
    {
        Null,
        Min,
        Max,
    }

    /// <summary>The value of <paramref name="raw"/>; SBE's default for <paramref name="bound"/> when it is null or not a valid value.</summary>
    public static SbeValue ParseOrDefault(PrimitiveKind kind, string? raw, Bound bound = Bound.Null)
        => (raw is null ? null : Parse(kind, raw)) ?? Default(kind, bound);

    /// <summary>
    /// Parses a value of the primitive type: an integer (decimal or 0x hex, or one character for a char) in the type's
    /// range, or a floating-point number (NaN and infinities by name) that the type can hold. Null when it is not valid.
    /// </summary>
    public static SbeValue? Parse(PrimitiveKind kind, string raw)
    {
        if (Primitives.IsFloatingPoint(kind))
        {
            switch (raw.Trim())
            {
                case "NaN":
                case "nan":
                    return new FloatingValue(double.NaN);
                case "Infinity":
                case "+Infinity":
                    return new FloatingValue(double.PositiveInfinity);
                case "-Infinity":
                    return new FloatingValue(double.NegativeInfinity);
            }

            if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
            {
                return null;
            }

            if (kind == PrimitiveKind.Float)
            {
                float single = (float)number;
                if (float.IsInfinity(single))
                {
                    return null;
                }

                number = single;
            }

            return new FloatingValue(number);
        }

        return Numeric(kind, raw) is { } integer ? Integer(kind, integer) : null;
    }

    /// <summary>Parses an integer (or a one-character char value) and checks it fits the type.</summary>
    public static decimal? Numeric(PrimitiveKind kind, string raw)
    {
        if (Primitives.IsFloatingPoint(kind))
        {
            return null;
        }

        decimal value;
        if (kind == PrimitiveKind.Char && raw.Length == 1)
        {
            value = raw[0];
        }
        else if (raw.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            && ulong.TryParse(raw.Substring(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong hex))
        {
            value = hex;
        }
        else if (!decimal.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            return null;
        }

        return value < Primitives.MinInteger(kind) || value > Primitives.MaxInteger(kind) ? null : value;
    }

    /// <summary>An integer of the type, which must be in its range: signed types' as <see cref="SignedValue"/>, others' as <see cref="UnsignedValue"/>.</summary>
    public static SbeValue Integer(PrimitiveKind kind, decimal value)
        => Primitives.IsSigned(kind) ? new SignedValue((long)value) : new UnsignedValue((ulong)value);

    /// <summary>The integer held by an integer value or by the value an enum reference names.</summary>
    public static bool TryGetInteger(SbeValue? value, out decimal integer)
    {
        switch (value)
        {
            case SignedValue signed:
                integer = signed.Value;
                return true;
            case UnsignedValue unsigned:
                integer = unsigned.Value;
                return true;
            case EnumValueReference reference:
                return TryGetInteger(reference.Value, out integer);
            default:
                integer = 0;
                return false;
        }
    }

    /// <summary>SBE's default null, min or max value of a primitive type.</summary>
    public static SbeValue Default(PrimitiveKind kind, Bound bound)
    {
        if (Primitives.IsFloatingPoint(kind))
        {
            bool single = kind == PrimitiveKind.Float;
            return new FloatingValue(bound switch
            {
                Bound.Null => double.NaN,
                Bound.Min => single ? float.MinValue : double.MinValue,
                _ => single ? float.MaxValue : double.MaxValue,
            });
        }

        decimal value = (kind, bound) switch
        {
            (_, Bound.Null) => DefaultNull(kind),
            (PrimitiveKind.Char, Bound.Min) => 0x20,
            (PrimitiveKind.Char, Bound.Max) => 0x7e,
            (PrimitiveKind.Int8 or PrimitiveKind.Int16 or PrimitiveKind.Int32 or PrimitiveKind.Int64, Bound.Min) => Primitives.MinInteger(kind) + 1,
            (PrimitiveKind.Int8 or PrimitiveKind.Int16 or PrimitiveKind.Int32 or PrimitiveKind.Int64, _) => Primitives.MaxInteger(kind),
            (_, Bound.Min) => 0,
            _ => Primitives.MaxInteger(kind) - 1,
        };
        return Integer(kind, value);
    }

    private static decimal DefaultNull(PrimitiveKind kind) => kind switch
    {
        PrimitiveKind.Char => 0,
        PrimitiveKind.Int8 or PrimitiveKind.Int16 or PrimitiveKind.Int32 or PrimitiveKind.Int64 => Primitives.MinInteger(kind),
        _ => Primitives.MaxInteger(kind),
    };
}
