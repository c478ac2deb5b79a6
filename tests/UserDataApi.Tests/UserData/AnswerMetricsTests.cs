using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.UserData;

/// <summary>The answer counter by route and result code, which lets an operator see -4 spikes though every answer is HTTP 200.</summary>
public sealed class AnswerMetricsTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    [Fact]
    public async Task Every_answer_is_counted_by_route_and_result_code()
    {
        var counted = new ConcurrentBag<(string Route, int Result)>();
        var serverMeters = fixture.Api.Services.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Only this server's meter: other test classes run servers in the same process.
            if (instrument.Meter.Scope == serverMeters && instrument.Name == UserDataMetrics.AnswersInstrument)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var all = tags.ToArray().ToDictionary(t => t.Key, t => t.Value);
            for (var i = 0; i < value; i++)
            {
                counted.Add(((string)all[UserDataMetrics.RouteTag]!, (int)all[UserDataMetrics.ResultTag]!));
            }
        });
        listener.Start();
        var get = new { identity_provider = "telegram", value_keys = new[] { "metric-key-" + Guid.NewGuid().ToString("N") } };

        await fixture.Client.PostAsync("get", get, token: null);
        await fixture.Client.PostAsync("get", get, fixture.Authority.CreateToken());
        await fixture.Client.PostAsync("list-get", new { identity_provider = "nowhere" }, fixture.Authority.CreateToken());

        Assert.Contains(("/user-data/by-idp/get", (int)ByIdpResultCode.TokenInvalid), counted);
        Assert.Contains(("/user-data/by-idp/get", (int)ByIdpResultCode.SuccessNotFound), counted);
        Assert.Contains(("/user-data/by-idp/list-get", (int)ByIdpResultCode.IdentityProviderNotFound), counted);
    }
}
