using System;
using System.Collections.Generic;
using System.Text.Json;

namespace PwshHost.Bridge
{
    /// <summary>
    /// One invocation asked for by the native side, parsed from JSON:
    /// <c>{"script": "...", "localScope": false}</c> or <c>{"command": "Name-Or-Path"}</c>, with
    /// optional <c>"parameters": {name: value}</c> (in order), <c>"arguments": [positional]</c>,
    /// <c>"input": [pipeline input]</c> and <c>"jsonDepth": n</c> for the output objects.
    /// </summary>
    internal sealed class InvokeRequest
    {
        internal const int DefaultJsonDepth = 4;

        private InvokeRequest(string? script, string? command)
        {
            Script = script;
            Command = command;
        }

        internal string? Script { get; }

        internal string? Command { get; }

        internal bool LocalScope { get; private set; }

        internal List<KeyValuePair<string, object?>> Parameters { get; } = new();

        internal List<object?> Arguments { get; } = new();

        internal List<object?>? Input { get; private set; }

        internal int JsonDepth { get; private set; } = DefaultJsonDepth;

        /// <summary>Parses a request; on failure returns null and says why in <paramref name="problem"/>.</summary>
        internal static InvokeRequest? Parse(ReadOnlySpan<byte> utf8, out string? problem)
        {
            problem = null;
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(utf8.ToArray());
            }
            catch (JsonException e)
            {
                problem = $"the request is not valid JSON ({e.Message}): send an object with \"script\" or \"command\"";
                return null;
            }

            using (document)
            {
                JsonElement root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    problem = "the request is not a JSON object: send an object with \"script\" or \"command\"";
                    return null;
                }

                string? script = OptionalString(root, "script", ref problem);
                string? command = OptionalString(root, "command", ref problem);
                if (problem is not null)
                {
                    return null;
                }

                if ((script is null) == (command is null))
                {
                    problem = "the request must have exactly one of \"script\" and \"command\"";
                    return null;
                }

                if (command is not null && command.Trim().Length == 0)
                {
                    problem = "the request's \"command\" is empty: name a command or a script file";
                    return null;
                }

                InvokeRequest request = new(script, command);
                if (root.TryGetProperty("localScope", out JsonElement localScope))
                {
                    request.LocalScope = localScope.ValueKind == JsonValueKind.True;
                }

                if (root.TryGetProperty("parameters", out JsonElement parameters) && parameters.ValueKind != JsonValueKind.Null)
                {
                    if (parameters.ValueKind != JsonValueKind.Object)
                    {
                        problem = "the request's \"parameters\" must be an object of parameter names and values";
                        return null;
                    }

                    foreach (JsonProperty parameter in parameters.EnumerateObject())
                    {
                        request.Parameters.Add(new KeyValuePair<string, object?>(parameter.Name, Json.ToValue(parameter.Value)));
                    }
                }

                if (!ReadArray(root, "arguments", request.Arguments, ref problem))
                {
                    return null;
                }

                if (root.TryGetProperty("input", out JsonElement input) && input.ValueKind != JsonValueKind.Null)
                {
                    request.Input = new List<object?>();
                    if (!ReadArray(root, "input", request.Input, ref problem))
                    {
                        return null;
                    }
                }

                if (root.TryGetProperty("jsonDepth", out JsonElement depth) && depth.ValueKind != JsonValueKind.Null)
                {
                    if (!depth.TryGetInt32(out int value) || value < 0 || value > 100)
                    {
                        problem = "the request's \"jsonDepth\" must be a whole number from 0 to 100";
                        return null;
                    }

                    request.JsonDepth = value;
                }

                return request;
            }
        }

        private static string? OptionalString(JsonElement root, string name, ref string? problem)
        {
            if (!root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                problem = $"the request's \"{name}\" must be a string";
                return null;
            }

            return value.GetString();
        }

        private static bool ReadArray(JsonElement root, string name, List<object?> into, ref string? problem)
        {
            if (!root.TryGetProperty(name, out JsonElement array) || array.ValueKind == JsonValueKind.Null)
            {
                return true;
            }

            if (array.ValueKind != JsonValueKind.Array)
            {
                problem = $"the request's \"{name}\" must be an array";
                return false;
            }

            foreach (JsonElement item in array.EnumerateArray())
            {
                into.Add(Json.ToValue(item));
            }

            return true;
        }
    }
}
