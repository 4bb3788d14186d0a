DROP TABLE assembly_slot_assets;
DROP TABLE assembly_slots;
