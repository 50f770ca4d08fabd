using Microsoft.CodeAnalysis.CSharp;
using WsGateway.Sbe.Schema.Model;

namespace WsGateway.Sbe.Generator.Tests;

/// <summary>The shared model names C# identifiers without Roslyn, so its keyword list must be the compiler's.</summary>
public sealed class NamesTests
{
    [Fact]
    public void Every_reserved_keyword_of_the_compiler_is_escaped_and_nothing_else()
    {
        foreach (SyntaxKind kind in SyntaxFacts.GetReservedKeywordKinds())
        {
            string keyword = SyntaxFacts.GetText(kind);
            Assert.Equal("@" + keyword, Names.Identifier(keyword));
        }

        foreach (SyntaxKind kind in SyntaxFacts.GetContextualKeywordKinds())
        {
            string keyword = SyntaxFacts.GetText(kind);
            Assert.Equal(keyword, Names.Identifier(keyword)); // record, value, var, field, ... are identifiers
        }

        Assert.Equal("Class", Names.Identifier("Class"));
        Assert.Equal("@class", Names.Camel("Class"));
    }
}
