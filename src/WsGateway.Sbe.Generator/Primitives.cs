using System.Globalization;
using System.Text;

namespace WsGateway.Sbe.Generator;

/// <summary>SBE primitive types: names, sizes and C# types.</summary>
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

    public static string CSharpType(PrimitiveKind kind) => kind switch
    {
        PrimitiveKind.Char or PrimitiveKind.UInt8 => "byte",
        PrimitiveKind.Int8 => "sbyte",
        PrimitiveKind.Int16 => "short",
        PrimitiveKind.UInt16 => "ushort",
        PrimitiveKind.Int32 => "int",
        PrimitiveKind.UInt32 => "uint",
        PrimitiveKind.Int64 => "long",
        PrimitiveKind.UInt64 => "ulong",
        PrimitiveKind.Float => "float",
        _ => "double",
    };

    /// <summary>The BinaryPrimitives method suffix (Int16, UInt32, Single, ...); null for one-byte types.</summary>
    public static string? BinaryName(PrimitiveKind kind) => kind switch
    {
        PrimitiveKind.Int16 => "Int16",
        PrimitiveKind.UInt16 => "UInt16",
        PrimitiveKind.Int32 => "Int32",
        PrimitiveKind.UInt32 => "UInt32",
        PrimitiveKind.Int64 => "Int64",
        PrimitiveKind.UInt64 => "UInt64",
        PrimitiveKind.Float => "Single",
        PrimitiveKind.Double => "Double",
        _ => null,
    };

    public static bool IsFloatingPoint(PrimitiveKind kind) => kind is PrimitiveKind.Float or PrimitiveKind.Double;

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

/// <summary>Turns schema values (nullValue, minValue, maxValue, constants, enum values) into C# literals.</summary>
internal static class Literals
{
    public enum Bound
    {
        Null,
        Min,
        Max,
    }

    /// <summary>A C# constant expression of the primitive's type; the SBE default when <paramref name="raw"/> is null.</summary>
    public static string Format(PrimitiveKind kind, string? raw, Bound bound = Bound.Null)
    {
        if (raw is not null && TryFormat(kind, raw, out string literal))
        {
            return literal;
        }

        return Default(kind, bound);
    }

    public static bool TryFormat(PrimitiveKind kind, string raw, out string literal)
    {
        literal = string.Empty;
        if (Primitives.IsFloatingPoint(kind))
        {
            string type = Primitives.CSharpType(kind);
            switch (raw.Trim())
            {
                case "NaN":
                case "nan":
                    literal = type + ".NaN";
                    return true;
                case "Infinity":
                case "+Infinity":
                    literal = type + ".PositiveInfinity";
                    return true;
                case "-Infinity":
                    literal = type + ".NegativeInfinity";
                    return true;
            }

            if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                return false;
            }

            if (kind == PrimitiveKind.Float)
            {
                float single = (float)value;
                if (float.IsInfinity(single))
                {
                    return false;
                }

                literal = single.ToString("R", CultureInfo.InvariantCulture) + "F";
            }
            else
            {
                literal = value.ToString("R", CultureInfo.InvariantCulture) + "D";
            }

            return true;
        }

        decimal? number = Numeric(kind, raw);
        if (number is null)
        {
            return false;
        }

        literal = Integer(kind, number.Value);
        return true;
    }

    /// <summary>The value as a plain decimal integer (for enum members); the null value when <paramref name="raw"/> is null.</summary>
    public static string? Plain(PrimitiveKind kind, string? raw)
    {
        if (raw is null)
        {
            return DefaultNull(kind).ToString(CultureInfo.InvariantCulture);
        }

        return Numeric(kind, raw)?.ToString(CultureInfo.InvariantCulture);
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

    /// <summary>Reads back an integer literal made by <see cref="Format"/> (e.g. <c>(ushort)65534</c>, <c>4294967294U</c>).</summary>
    public static decimal? Parse(string literal)
    {
        string text = literal;
        if (text.StartsWith("(", StringComparison.Ordinal) && text.IndexOf(')') is int close and > 0)
        {
            text = text.Substring(close + 1);
        }

        text = text.Trim('(', ')').TrimEnd('U', 'L');
        return text switch
        {
            "int.MinValue" => int.MinValue,
            "long.MinValue" => long.MinValue,
            _ => decimal.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out decimal value) ? value : null,
        };
    }

    public static string String(string value)
    {
        var builder = new StringBuilder("\"");
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        return builder.Append('"').ToString();
    }

    private static string Integer(PrimitiveKind kind, decimal value)
    {
        string digits = value.ToString(CultureInfo.InvariantCulture);
        switch (kind)
        {
            case PrimitiveKind.Int32:
                return value == int.MinValue ? "int.MinValue" : digits;
            case PrimitiveKind.UInt32:
                return digits + "U";
            case PrimitiveKind.Int64:
                return value == long.MinValue ? "long.MinValue" : digits + "L";
            case PrimitiveKind.UInt64:
                return digits + "UL";
            default:
                string type = Primitives.CSharpType(kind);
                return value < 0 ? $"({type})({digits})" : $"({type}){digits}";
        }
    }

    private static decimal DefaultNull(PrimitiveKind kind) => kind switch
    {
        PrimitiveKind.Char => 0,
        PrimitiveKind.Int8 or PrimitiveKind.Int16 or PrimitiveKind.Int32 or PrimitiveKind.Int64 => Primitives.MinInteger(kind),
        _ => Primitives.MaxInteger(kind),
    };

    private static string Default(PrimitiveKind kind, Bound bound)
    {
        if (Primitives.IsFloatingPoint(kind))
        {
            string type = Primitives.CSharpType(kind);
            return bound switch
            {
                Bound.Null => type + ".NaN",
                Bound.Min => type + ".MinValue",
                _ => type + ".MaxValue",
            };
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
}
