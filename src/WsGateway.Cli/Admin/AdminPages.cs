using System.Collections.Frozen;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace WsGateway.Cli.Admin;

/// <summary>The dashboard and the browser client: static files embedded in this assembly (<c>Admin/wwwroot</c>),
/// served from memory. The content security policy allows this origin only, so nothing can come from a CDN.</summary>
internal static class AdminPages
{
    private const string ResourcePrefix = "WsGateway.Cli.Admin.wwwroot.";

    private const string ContentSecurityPolicy =
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly string[] s_getHead = [HttpMethods.Get, HttpMethods.Head];

    /// <summary>URL path → embedded file.</summary>
    internal static readonly FrozenDictionary<string, string> Routes = new Dictionary<string, string>
    {
        ["/"] = "index.html",
        ["/client"] = "client.html",
        ["/admin.css"] = "admin.css",
        ["/linechart.js"] = "linechart.js",
        ["/dashboard.js"] = "dashboard.js",
        ["/client.js"] = "client.js",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        foreach ((string path, string file) in Routes)
        {
            byte[] content = Read(file);
            string contentType = ContentType(file);
            endpoints.MapMethods(path, s_getHead, (HttpContext context) =>
            {
                IHeaderDictionary headers = context.Response.Headers;
                headers.CacheControl = "no-cache";
                headers.XContentTypeOptions = "nosniff";
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                return TypedResults.Bytes(content, contentType);
            });
        }
    }

    internal static byte[] Read(string file)
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourcePrefix + file)
            ?? throw new InvalidOperationException($"The admin page '{file}' is not embedded in the assembly.");
        byte[] content = new byte[stream.Length];
        stream.ReadExactly(content);
        return content;
    }

    private static string ContentType(string file) => Path.GetExtension(file) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        _ => "application/octet-stream",
    };
}
