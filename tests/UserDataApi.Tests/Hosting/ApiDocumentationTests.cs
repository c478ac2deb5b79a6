using System.Text.Json;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Hosting;

public sealed class ApiDocumentationTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    [Fact]
    public async Task Swagger_ui_is_served_at_swagger()
    {
        using var response = await fixture.Api.CreateClient().GetAsync("/swagger/index.html");

        response.EnsureSuccessStatusCode();
        Assert.Contains("swagger-ui", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task With_swagger_disabled_neither_the_ui_nor_the_document_is_served()
    {
        await using var api = await new ApiFactory(fixture.Authority, await TestPostgres.CreateDatabaseAsync(),
            new Dictionary<string, string?> { ["Swagger:Enabled"] = "false" }).StartedAsync();
        using var client = api.CreateClient();

        foreach (var path in new[] { "/swagger/index.html", "/swagger/v1/swagger.json" })
        {
            using var response = await client.GetAsync(path);
            Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    [Fact]
    public async Task OpenApi_document_has_the_bearer_scheme()
    {
        var document = await ReadDocumentAsync();

        var bearer = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.Equal("http", bearer.GetProperty("type").GetString());
        Assert.Equal("bearer", bearer.GetProperty("scheme").GetString());
        Assert.True(document.GetProperty("security")[0].TryGetProperty("Bearer", out _));
    }

    [Theory]
    [InlineData("set", new[] { "identity_provider", "value_key", "value_data", "access_scope", "request_id" }, new[] { "result" }, "| -8 |")]
    [InlineData("get", new[] { "identity_provider", "value_keys", "request_id" }, new[] { "result", "values" }, "| -7 |")]
    [InlineData("list-get", new[] { "identity_provider", "request_id" }, new[] { "result", "keys_private", "keys_public" }, "| 1 |")]
    [InlineData("shared-list-get", new[] { "identity_provider", "search_id", "page_size", "request_id" }, new[] { "result", "keys_shared", "next_search_id" }, "| -5 |")]
    [InlineData("delete", new[] { "identity_provider", "value_keys", "request_id" }, new[] { "result" }, "| -7 |")]
    public async Task OpenApi_document_describes_each_endpoint_with_schemas_examples_and_result_codes(
        string endpoint, string[] requestFields, string[] answerFields, string resultRow)
    {
        var document = await ReadDocumentAsync();

        var operation = document.GetProperty("paths").GetProperty($"/user-data/by-idp/{endpoint}").GetProperty("post");
        var description = operation.GetProperty("description").GetString()!;
        Assert.Contains(resultRow, description);
        Assert.Contains("| -1 |", description);
        var request = Resolve(document, operation.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        Assert.All(requestFields, field => Assert.True(request.GetProperty("properties").TryGetProperty(field, out _), field));
        Assert.Equal("telegram", request.GetProperty("properties").GetProperty("identity_provider").GetProperty("example").GetString());
        var answer = Resolve(document, operation.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        Assert.All(answerFields, field => Assert.True(answer.GetProperty("properties").TryGetProperty(field, out _), field));
    }

    private async Task<JsonElement> ReadDocumentAsync() =>
        JsonDocument.Parse(await fixture.Api.CreateClient().GetStringAsync("/swagger/v1/swagger.json")).RootElement;

    private static JsonElement Resolve(JsonElement document, JsonElement schema)
    {
        if (!schema.TryGetProperty("$ref", out var reference))
        {
            return schema;
        }
        var name = reference.GetString()!.Split('/').Last();
        return document.GetProperty("components").GetProperty("schemas").GetProperty(name);
    }
}
