using System;
using System.Globalization;
using System.Management.Automation;
using System.Reflection;
using System.Text.Json;

namespace PwshHost.Bridge
{
    /// <summary>
    /// The JSON of what an invocation produces. Output objects are written the way
    /// <c>ConvertTo-Json -Compress -EnumsAsStrings</c> writes them, except that a scalar (bool,
    /// number, string, date, guid, enum) is written as its plain value even when PowerShell has
    /// added note properties to it: a cmdlet's <c>[bool]</c> result is <c>true</c>, not an object.
    /// </summary>
    internal static class RecordJson
    {
        internal static byte[] Output(PSObject? item, int depth) =>
            Json.Write(writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("stream", "output");
                writer.WriteStartArray("typeNames");
                if (item is not null)
                {
                    foreach (string typeName in item.TypeNames)
                    {
                        writer.WriteStringValue(typeName);
                    }
                }

                writer.WriteEndArray();
                writer.WritePropertyName("value");
                object? baseObject = item?.BaseObject;
                if (item is null || baseObject is null)
                {
                    writer.WriteNullValue();
                }
                else if (!TryWriteScalar(writer, baseObject))
                {
                    string json;
                    try
                    {
                        json = ConvertToJson.Convert(item, depth);
                    }
                    catch (Exception e)
                    {
                        // An object PowerShell itself cannot convert: keep its text, say why.
                        if (e is TargetInvocationException { InnerException: { } inner })
                        {
                            e = inner;
                        }

                        writer.WriteStringValue(item.ToString());
                        writer.WriteString("conversionError", e.Message);
                        writer.WriteEndObject();
                        return;
                    }

                    writer.WriteRawValue(json, skipInputValidation: false);
                }

                writer.WriteEndObject();
            });

        internal static byte[] Error(ErrorRecord record, bool terminating) =>
            Json.Write(writer =>
            {
                Exception? exception = record.Exception;
                writer.WriteStartObject();
                writer.WriteString("stream", "error");
                writer.WriteBoolean("terminating", terminating);
                writer.WriteString("fullyQualifiedErrorId", record.FullyQualifiedErrorId);
                writer.WriteString("category", record.CategoryInfo.Category.ToString());
                writer.WriteString("categoryInfo", record.CategoryInfo.ToString());
                writer.WriteString("message", record.ErrorDetails?.Message ?? exception?.Message ?? record.ToString());
                writer.WriteString("targetObject", record.TargetObject is null ? null : PSObject.AsPSObject(record.TargetObject).ToString());
                writer.WriteString("command", record.InvocationInfo?.MyCommand?.Name);
                writer.WriteString("positionMessage", NullIfEmpty(record.InvocationInfo?.PositionMessage));
                writer.WriteString("scriptStackTrace", NullIfEmpty(record.ScriptStackTrace));
                writer.WriteString("exceptionType", exception?.GetType().FullName);
                writer.WriteString("exceptionMessage", exception?.Message);
                writer.WriteStartObject("exception");
                if (exception is not null)
                {
                    WriteExceptionProperties(writer, exception);
                }

                writer.WriteEndObject();
                writer.WriteEndObject();
            });

        internal static byte[] Message(string stream, string? message) =>
            Json.Write(writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("stream", stream);
                writer.WriteString("message", message ?? string.Empty);
                writer.WriteEndObject();
            });

        internal static byte[] Information(InformationRecord record) =>
            Json.Write(writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("stream", "information");
                writer.WriteString("message", record.MessageData?.ToString() ?? string.Empty);
                writer.WriteString("source", record.Source);
                writer.WriteStartArray("tags");
                foreach (string tag in record.Tags)
                {
                    writer.WriteStringValue(tag);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            });

        internal static byte[] Completed(bool hadErrors, bool stopped, object? lastExitCode, int? exitCode) =>
            Json.Write(writer =>
            {
                writer.WriteStartObject();
                writer.WriteBoolean("hadErrors", hadErrors);
                writer.WriteBoolean("stopped", stopped);
                if (PSObject.AsPSObject(lastExitCode ?? new object()).BaseObject is int lastCode)
                {
                    writer.WriteNumber("lastExitCode", lastCode);
                }
                else
                {
                    writer.WriteNull("lastExitCode");
                }

                if (exitCode is int requested)
                {
                    writer.WriteNumber("exitCode", requested);
                }
                else
                {
                    writer.WriteNull("exitCode");
                }

                writer.WriteEndObject();
            });

        /// <summary>
        /// The exception's own public properties (a module's StatusCode, RequestId, ...), leaving
        /// out what every exception has and PowerShell's plumbing; only scalar values.
        /// </summary>
        private static void WriteExceptionProperties(Utf8JsonWriter writer, Exception exception)
        {
            foreach (PropertyInfo property in exception.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                Assembly? declaredIn = property.DeclaringType?.Assembly;
                if (declaredIn is null
                    || declaredIn == typeof(Exception).Assembly
                    || declaredIn == typeof(PSObject).Assembly
                    || property.GetIndexParameters().Length > 0)
                {
                    continue;
                }

                object? value;
                try
                {
                    value = property.GetValue(exception);
                }
                catch (Exception)
                {
                    continue;
                }

                if (value is null)
                {
                    writer.WriteNull(property.Name);
                    continue;
                }

                writer.WritePropertyName(property.Name);
                if (!TryWriteScalar(writer, value))
                {
                    writer.WriteStringValue(value.ToString());
                }
            }
        }

        private static bool TryWriteScalar(Utf8JsonWriter writer, object value)
        {
            switch (value)
            {
                case bool b:
                    writer.WriteBooleanValue(b);
                    return true;
                case string s:
                    writer.WriteStringValue(s);
                    return true;
                case char c:
                    writer.WriteStringValue(c.ToString());
                    return true;
                case Enum e:
                    writer.WriteStringValue(e.ToString());
                    return true;
                case int or long or short or sbyte or byte or ushort or uint:
                    writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                    return true;
                case ulong u:
                    writer.WriteNumberValue(u);
                    return true;
                case decimal d:
                    writer.WriteNumberValue(d);
                    return true;
                case double or float:
                    double number = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                    if (double.IsFinite(number))
                    {
                        writer.WriteNumberValue(number);
                    }
                    else
                    {
                        writer.WriteStringValue(number.ToString(CultureInfo.InvariantCulture));
                    }

                    return true;
                case DateTime dateTime:
                    writer.WriteStringValue(dateTime.ToString("O", CultureInfo.InvariantCulture));
                    return true;
                case DateTimeOffset dateTimeOffset:
                    writer.WriteStringValue(dateTimeOffset.ToString("O", CultureInfo.InvariantCulture));
                    return true;
                case Guid guid:
                    writer.WriteStringValue(guid.ToString());
                    return true;
                case Uri uri:
                    writer.WriteStringValue(uri.OriginalString);
                    return true;
                default:
                    return false;
            }
        }

        private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;
    }
}
