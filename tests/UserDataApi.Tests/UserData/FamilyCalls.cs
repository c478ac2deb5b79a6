using System.Text.Json;
using System.Text.Json.Nodes;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.UserData;

/// <summary>The same call in any sub-family: by-idp's body gets <c>identity_provider: telegram</c> added, the others' is sent as given.</summary>
public sealed class FamilyCalls(UserDataClient client)
{
    public Task<JsonElement> PostAsync(string family, string endpoint, object fields, string? token)
    {
        var body = JsonSerializer.SerializeToNode(fields)!.AsObject();
        if (family == "by-idp" && !body.ContainsKey("identity_provider"))
        {
            body["identity_provider"] = "telegram";
        }
        return client.PostAsync($"{family}/{endpoint}", body, token);
    }

    public Task<JsonElement> SetAsync(string family, string token, string key, string value = "v", int scope = 1) =>
        PostAsync(family, "set", new { value_key = key, value_data = value, access_scope = scope }, token);

    public Task<JsonElement> GetAsync(string family, string token, params string[] keys) =>
        PostAsync(family, "get", new { value_keys = keys }, token);

    public Task<JsonElement> ListGetAsync(string family, string token) => PostAsync(family, "list-get", new { }, token);

    public Task<JsonElement> SharedListGetAsync(string family, string token, string? searchId = null, int? pageSize = null) =>
        PostAsync(family, "shared-list-get", new { search_id = searchId, page_size = pageSize }, token);

    public Task<JsonElement> DeleteAsync(string family, string token, params string[] keys) =>
        PostAsync(family, "delete", new { value_keys = keys }, token);

    /// <summary>The values a get answered, by key.</summary>
    public static Dictionary<string, string> Values(JsonElement answer) =>
        answer.GetProperty("values").EnumerateArray().ToDictionary(v => v.GetProperty("value_key").GetString()!, v => v.GetProperty("value_data").GetString()!);
}
