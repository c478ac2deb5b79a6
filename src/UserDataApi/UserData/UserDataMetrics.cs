using System.Diagnostics.Metrics;

namespace UserDataApi.UserData;

/// <summary>
/// Counts user-data answers by route and result code, so that an operator sees a spike of -4
/// (database or catalog trouble) or -1/-2 (token trouble) the moment it starts, though every answer is HTTP 200.
/// </summary>
public sealed class UserDataMetrics
{
    public const string MeterName = "UserDataApi";
    public const string AnswersInstrument = "userdata.answers";
    public const string RouteTag = "http.route";
    public const string ResultTag = "userdata.result";

    private readonly Counter<long> _answers;

    public UserDataMetrics(IMeterFactory meters) =>
        _answers = meters.Create(MeterName).CreateCounter<long>(AnswersInstrument, "{answer}", "User-data answers by route and result code.");

    public void Record(HttpContext http, int result)
    {
        if (!_answers.Enabled)
        {
            return;
        }
        // The route pattern, never the raw path, keeps the tag's values few.
        var route = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
        _answers.Add(1, new KeyValuePair<string, object?>(RouteTag, route), new KeyValuePair<string, object?>(ResultTag, result));
    }
}
