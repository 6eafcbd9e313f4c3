import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";

// e164 is globally unique (contact_phones_e164_key): one number belongs to one contact, which is
// what makes concurrent first calls from one number produce exactly one contact.
@Entity({ name: "contact_phones" })
export class ContactPhone {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "contact_id", type: "uuid" })
  contactId: string;

  @Column({ name: "e164", type: "text" })
  e164: string;

  @Column({ name: "raw", type: "text" })
  raw: string;

  @Column({ name: "extension", type: "text", nullable: true })
  extension: string | null;

  @Column({ name: "label", type: "text", nullable: true })
  label: string | null;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;
}
