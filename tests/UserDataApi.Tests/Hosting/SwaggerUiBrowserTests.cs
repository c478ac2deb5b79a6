using System.Text.Json;
using System.Text.RegularExpressions;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.Hosting;

/// <summary>
/// The newcomer's first minutes, in a real browser: the README's run command brings up the server,
/// Swagger UI loads in headless Chromium, authorizes with the token the script printed, and executes
/// a set and a get.
/// </summary>
public sealed partial class SwaggerUiBrowserTests
{
    private static readonly TimeSpan PageTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Swagger_ui_of_the_run_script_authorizes_with_the_printed_token_and_executes_set_and_get()
    {
        await using var server = ServerProcess.StartScript("scripts/run.sh",
            ("ConnectionStrings__UserData", await TestPostgres.CreateDatabaseAsync()),
            ("ASPNETCORE_URLS", "http://127.0.0.1:0"));
        // The script builds the server first, which takes a while on a fresh clone.
        var address = await server.WaitUntilListeningAsync(TimeSpan.FromMinutes(4));
        var token = server.OutputLines.Select(line => PrintedToken().Match(line)).Single(match => match.Success).Groups["token"].Value;
        await using var browser = await Chromium.LaunchAsync();
        var key = "from-the-browser-" + Guid.NewGuid().ToString("N")[..8];
        var value = "typed into Swagger UI " + Guid.NewGuid().ToString("N")[..8];

        await browser.NavigateAsync(new Uri(address, "/swagger"));
        await browser.WaitForAsync("document.querySelectorAll('.opblock').length >= 5", PageTimeout);
        await AuthorizeAsync(browser, token);
        var set = await ExecuteAsync(browser, "/user-data/by-idp/set",
            JsonSerializer.Serialize(new { identity_provider = "telegram", value_key = key, value_data = value, access_scope = 0 }));
        var get = await ExecuteAsync(browser, "/user-data/by-idp/get",
            JsonSerializer.Serialize(new { request_id = 7, identity_provider = "telegram", value_keys = new[] { key } }));

        Assert.Equal((int)ByIdpResultCode.Success, set.Result());
        Assert.Equal((int)ByIdpResultCode.Success, get.Result());
        Assert.Equal(7, get.GetProperty("request_id").GetInt64());
        Assert.Equal(value, get.GetProperty("values")[0].GetProperty("value_data").GetString());
    }

    /// <summary>Authorize → paste the token into the Bearer field → Authorize → Close, as a person does.</summary>
    private static async Task AuthorizeAsync(Chromium browser, string token)
    {
        await browser.EvaluateAsync("document.querySelector('.auth-wrapper .authorize').click()");
        await browser.WaitForAsync("(() => { const field = document.querySelector('.modal-ux input'); field?.focus(); return !!field; })()", PageTimeout);
        await browser.TypeAsync(token);
        await browser.EvaluateAsync("document.querySelector('.modal-ux .auth-btn-wrapper .authorize').click()");
        await browser.WaitForAsync("document.querySelector('.modal-ux .auth-btn-wrapper')?.innerText.includes('Logout')", PageTimeout);
        await browser.EvaluateAsync("document.querySelector('.modal-ux .btn-done').click()");
        await browser.WaitForAsync("!document.querySelector('.modal-ux')", PageTimeout);
    }

    /// <summary>Opens an operation, presses "Try it out", types the body, presses "Execute", and reads the answer shown.</summary>
    private static async Task<JsonElement> ExecuteAsync(Chromium browser, string path, string body)
    {
        var block = $"[...document.querySelectorAll('.opblock')].find(b => b.querySelector('.opblock-summary-path')?.getAttribute('data-path') === '{path}')";
        await browser.EvaluateAsync($"({block}.querySelector('.opblock-summary-control') ?? {block}.querySelector('.opblock-summary')).click()");
        await browser.WaitForAsync($"(() => {{ const button = {block}.querySelector('.try-out__btn'); button?.click(); return !!button; }})()", PageTimeout);
        await browser.WaitForAsync($"(() => {{ const text = {block}.querySelector('textarea.body-param__text'); text?.focus(); text?.select(); return !!text; }})()", PageTimeout);
        await browser.TypeAsync(body);
        await browser.EvaluateAsync($"{block}.querySelector('.btn.execute').click()");
        var shown = await browser.WaitForAsync(
            $"{block}.querySelector('.live-responses-table .response-col_description .microlight, .live-responses-table .response-col_description pre')?.textContent",
            PageTimeout);
        var status = await browser.EvaluateAsync($"{block}.querySelector('.live-responses-table tr.response .response-col_status').textContent.trim()");
        Assert.Equal("200", status.GetString());
        return JsonDocument.Parse(shown.GetString()!).RootElement.Clone();
    }

    [GeneratedRegex(@"^\s+(?<token>eyJ[\w-]+\.[\w-]+\.[\w-]+)\s*$")]
    private static partial Regex PrintedToken();
}
