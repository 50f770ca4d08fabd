using System.Globalization;
using System.Text;
using WsGateway.Sbe.Schema.Model;

namespace WsGateway.Sbe.Generator;

/// <summary>SBE primitive types as C# types.</summary>
internal static class CSharpPrimitives
{
    public static string TypeName(PrimitiveKind kind) => kind switch
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
}

/// <summary>The model's typed values as C# literals: the one place where schema values become C# text.</summary>
internal static class Literals
{
    /// <summary>
    /// A C# constant expression of the primitive's type for an integer or floating value: <c>(ushort)65534</c>,
    /// <c>4294967294U</c>, <c>long.MinValue</c>, <c>1.5F</c>, <c>double.NaN</c>, <c>float.MaxValue</c>.
    /// </summary>
    public static string Format(PrimitiveKind kind, SbeValue value)
    {
        switch (value)
        {
            case FloatingValue floating:
                return Floating(kind, floating.Value);
            case SignedValue signed:
                return Integer(kind, signed.Value);
            case UnsignedValue unsigned:
                return Integer(kind, unsigned.Value);
            default:
                throw new ArgumentException($"{value} is not a number of a {Primitives.SbeName(kind)}", nameof(value));
        }
    }

    /// <summary>The value as a plain decimal integer (enum members).</summary>
    public static string Plain(SbeValue value)
        => SchemaValues.TryGetInteger(value, out decimal integer)
            ? integer.ToString(CultureInfo.InvariantCulture)
            : throw new ArgumentException($"{value} is not an integer", nameof(value));

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

    private static string Floating(PrimitiveKind kind, double value)
    {
        string type = CSharpPrimitives.TypeName(kind);
        if (double.IsNaN(value))
        {
            return type + ".NaN";
        }

        if (double.IsInfinity(value))
        {
            return type + (value > 0 ? ".PositiveInfinity" : ".NegativeInfinity");
        }

        if (kind == PrimitiveKind.Float)
        {
            float single = (float)value;
            return single == float.MinValue ? "float.MinValue"
                : single == float.MaxValue ? "float.MaxValue"
                : single.ToString("R", CultureInfo.InvariantCulture) + "F";
        }

        return value == double.MinValue ? "double.MinValue"
            : value == double.MaxValue ? "double.MaxValue"
            : value.ToString("R", CultureInfo.InvariantCulture) + "D";
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
                string type = CSharpPrimitives.TypeName(kind);
                return value < 0 ? $"({type})({digits})" : $"({type}){digits}";
        }
    }
}
