"""群规: each room's rules text, set by a manager, sent under the welcome and answered on 「群规」."""
