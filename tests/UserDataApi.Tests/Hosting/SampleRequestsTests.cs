using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Hosting;

/// <summary>UserDataApi.http stays a sample request for every endpoint the server maps.</summary>
public sealed partial class SampleRequestsTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    [Fact]
    public void The_http_file_has_a_request_for_every_endpoint()
    {
        var requests = File.ReadLines(Repository.PathOf("src/UserDataApi/UserDataApi.http"))
            .Select(line => RequestLine().Match(line))
            .Where(match => match.Success)
            .Select(match => (Method: match.Groups["method"].Value, Path: match.Groups["path"].Value))
            .ToList();
        // (gRPC's catch-all that answers UNIMPLEMENTED for unknown methods is no request to show.)
        var endpoints = fixture.Api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(endpoint => !endpoint.RoutePattern.RawText!.Contains(":grpcunimplemented}", StringComparison.Ordinal))
            .ToList();

        Assert.NotEmpty(endpoints);
        Assert.All(endpoints, endpoint =>
        {
            // Route parameters ({idpIntentId}) match any one path segment.
            var literals = RouteParameter().Split("/" + endpoint.RoutePattern.RawText!.Trim('/'));
            var pattern = new Regex("^" + string.Join("[^/]+", literals.Select(Regex.Escape)) + "$");
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            Assert.True(requests.Any(r => methods.Contains(r.Method) && pattern.IsMatch(r.Path)),
                $"UserDataApi.http has no {string.Join('/', methods)} request for {endpoint.RoutePattern.RawText}");
        });
    }

    [GeneratedRegex(@"^(?<method>GET|POST|PUT|PATCH|DELETE)\s+\{\{host\}\}(?<path>/[^\s?]*)")]
    private static partial Regex RequestLine();

    [GeneratedRegex(@"\{[^/}]+\}")]
    private static partial Regex RouteParameter();
}
