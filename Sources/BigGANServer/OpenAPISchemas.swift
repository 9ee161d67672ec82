import Foundation

/// The JSON schemas of request and response bodies that `OpenAPIDocument` refers to
/// (`#/components/schemas/<name>`).
enum OpenAPISchemas {
    static let json = #"""
{
  "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
  "Health": {"type": "object", "properties": {"status": {"type": "string", "enum": ["ok", "degraded", "unavailable"]}, "models": {"type": "array", "items": {"type": "string"}},
    "failed_models": {"type": "array", "items": {"type": "object", "properties": {"path": {"type": "string"}, "reason": {"type": "string"}}}},
    "request_log": {"type": "object", "properties": {"ok": {"type": "boolean"}, "path": {"type": "string", "nullable": true}, "error": {"type": "string", "nullable": true}}},
    "queue_depth": {"type": "integer"}}},
  "ModelSummary": {"type": "object", "properties": {"name": {"type": "string"}, "architecture": {"type": "string"}, "resolution": {"type": "integer"}, "channels": {"type": "integer"},
    "classes": {"type": "integer"}, "dim_z": {"type": "integer"}, "truncation": {"type": "string"}, "default": {"type": "boolean"}, "provenance": {"type": "string", "nullable": true},
    "default_truncation": {"type": "string", "enum": ["none"]}, "truncation_range": {"type": "string"}, "capabilities": {"$ref": "#/components/schemas/Capabilities"},
    "encoder": {"$ref": "#/components/schemas/EncoderSummary"}}},
  "EncoderSummary": {"type": "object", "nullable": true, "description": "The encoder of a bigbigan model (null for other families): its input and outputs",
    "properties": {"resolution": {"type": "integer"}, "channels": {"type": "integer"}, "dim_z": {"type": "integer"}, "feature_width": {"type": "integer"},
      "sigma": {"type": "string", "enum": ["softplus", "logvar"]}, "parameters": {"type": "integer"}}},
  "EncodeReply": {"type": "object", "properties": {"model": {"type": "string"}, "seed": {"type": "integer"},
    "z_mean": {"type": "array", "items": {"type": "number"}}, "sigma": {"type": "array", "items": {"type": "number"}},
    "z_sample": {"type": "array", "items": {"type": "number"}, "description": "z_mean + sigma * eps, eps the engine's untruncated latent of seed"},
    "features": {"type": "array", "items": {"type": "number"}, "description": "globally average-pooled features (avepool_feat)"},
    "dim_z": {"type": "integer"}, "feature_width": {"type": "integer"}, "sigma_parameterisation": {"type": "string"},
    "preprocessing": {"type": "object", "properties": {"source": {"type": "object"}, "crop": {"type": "object"}, "resize": {"type": "string", "enum": ["area", "bicubic", "none"]},
      "resolution": {"type": "integer"}, "channels": {"type": "integer"}, "alpha": {"type": "string"}, "scale": {"type": "string"}}}}},
  "Capabilities": {"type": "object", "description": "What the model's family can do: clients build their controls from this.",
    "required": ["conditional", "latent_spaces", "truncation", "encoder"], "properties": {
    "conditional": {"type": "boolean", "description": "false: requests must not name a class"}, "latent_spaces": {"type": "array", "items": {"type": "string", "enum": ["z", "w"]}},
    "encoder": {"type": "boolean"}, "truncation": {"type": "object", "properties": {"rule": {"type": "string"}, "symbol": {"type": "string"}, "min": {"type": "number"},
      "min_inclusive": {"type": "boolean"}, "max": {"type": "number", "nullable": true}, "range": {"type": "string"}, "summary": {"type": "string"},
      "default": {"type": "number", "nullable": true, "description": "always null: an omitted truncation is untruncated"}}},
    "style": {"type": "object", "nullable": true, "description": "StyleGAN controls (null for other families, which refuse psi, cutoff, noise_mode, truncation_target, seed_mode, space=w and /v1/mix)",
      "properties": {"layers": {"type": "integer", "description": "synthesis layers L; cutoff is 1..L, styles 0..L-1"}, "default_cutoff": {"type": "integer"},
        "noise_modes": {"type": "array", "items": {"type": "string", "enum": ["const", "random", "none"]}}, "default_noise_mode": {"type": "string"},
        "class_centroids": {"type": "boolean", "description": "the checkpoint stores dlatent_class_avg"},
        "truncation_targets": {"type": "array", "items": {"type": "string", "enum": ["class", "average"]}}, "default_truncation_target": {"type": "string"},
        "mixing": {"type": "boolean"}}}}},
  "ModelDetail": {"allOf": [{"$ref": "#/components/schemas/ModelSummary"}, {"type": "object", "properties": {"class_names": {"type": "array", "items": {"type": "string"}}, "config": {"type": "object"}, "parameters": {"type": "integer"}}}]},
  "NeighboursReply": {"type": "object", "properties": {"model": {"type": "string"}, "class": {"type": "integer", "nullable": true}, "class_name": {"type": "string", "nullable": true},
    "seed": {"type": "integer"}, "truncation": {"type": "number", "nullable": true}, "space": {"type": "string"}, "scope": {"type": "string"}, "k": {"type": "integer"},
    "neighbours": {"type": "array", "items": {"type": "object", "properties": {"rank": {"type": "integer"}, "index": {"type": "integer"}, "label": {"type": "integer"},
      "class_name": {"type": "string"}, "distance": {"type": "number"}}}}}},
  "ClassValue": {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string"}]},
  "SamplesRequest": {"type": "object", "properties": {"model": {"type": "string"}, "class": {"$ref": "#/components/schemas/ClassValue"},
    "classes": {"type": "array", "items": {"$ref": "#/components/schemas/ClassValue"}}, "seed": {"type": "integer", "minimum": 0},
    "seeds": {"type": "array", "items": {"type": "integer", "minimum": 0}, "maxItems": 64}, "n": {"type": "integer", "minimum": 1, "maximum": 64},
    "z": {"type": "array", "items": {"type": "array", "items": {"type": "number", "minimum": -1000, "maximum": 1000}}, "maxItems": 64},
    "truncation": {"oneOf": [{"type": "number"}, {"type": "string", "enum": ["none"]}], "nullable": true,
      "description": "positive for BigGAN families; psi in [-1, 2] for StyleGAN"},
    "psi": {"oneOf": [{"type": "number", "minimum": -1, "maximum": 2}, {"type": "string", "enum": ["none"]}], "nullable": true, "description": "StyleGAN only: the same as truncation (give one)"},
    "cutoff": {"type": "integer", "minimum": 1, "description": "StyleGAN only: leading layers psi applies to (default the checkpoint's truncation_cutoff)"},
    "noise_mode": {"type": "string", "enum": ["const", "random", "none"], "description": "StyleGAN only"},
    "truncation_target": {"type": "string", "enum": ["class", "average"], "description": "StyleGAN only"},
    "seed_mode": {"type": "string", "enum": ["engine", "numpy"], "description": "StyleGAN only: numpy draws z as NumPy RandomState(seed).randn(1, z_dim)"}},
    "additionalProperties": false},
  "SamplesReply": {"type": "object", "properties": {"model": {"type": "string"}, "truncation": {"type": "number", "nullable": true},
    "images": {"type": "array", "items": {"type": "object", "properties": {"index": {"type": "integer"}, "class": {"type": "integer", "nullable": true}, "class_name": {"type": "string", "nullable": true},
      "seed": {"type": "integer", "nullable": true}, "png_base64": {"type": "string", "format": "byte"}}}}}},
  "RequestRow": {"type": "object", "properties": {"id": {"type": "integer"}, "time": {"type": "string"}, "method": {"type": "string"}, "path": {"type": "string"},
    "query": {"type": "string"}, "status": {"type": "integer"}, "duration_ms": {"type": "number"}, "bytes": {"type": "integer"},
    "model": {"type": "string", "nullable": true}, "client": {"type": "string"}, "error": {"type": "string", "nullable": true}}}
}
"""#

    static let all: [String: JSONValue] = {
        do { return try JSONDecoder().decode([String: JSONValue].self, from: Data(json.utf8)) }
        catch { fatalError("OpenAPISchemas.json is not valid JSON: \(error)") }
    }()
}
